package dev.berth.server;

import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.InferenceService;
import dev.berth.server.codec.OipJson;
import dev.berth.server.codec.RestInferRequest;
import dev.berth.server.codec.RestInferResponse;
import dev.berth.server.codec.StrictUtf8;
import dev.berth.server.codec.TritonModelConfig;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import static dev.berth.server.RestRoutes.get;
import static dev.berth.server.RestRoutes.post;
import static dev.berth.server.RestRoutes.sendJson;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The Open Inference Protocol over REST, with Triton's binary tensor data and model repository
 * extensions ({@link #routing} and, registered ahead of every other route, {@link #inferRoutes}). A thin
 * adapter: it reads and decodes the body and encodes the answer; inference runs
 * through the {@link InferenceExchange} it shares with gRPC, routes and failures through
 * {@link RestRoutes}, which answers {@code {"error": "..."}}.
 */
final class OipRestService implements HttpService {
    static final HeaderName INFERENCE_HEADER_LENGTH = HeaderNames.create("Inference-Header-Content-Length");
    static final String OCTET_STREAM = "application/octet-stream";

    private final InferenceService core;
    private final ServerInfo info;
    private final InferenceExchange exchange;
    private final long maxRequestBytes;
    private final RepositoryAccess repository;

    OipRestService(InferenceService core, ServerInfo info, InferenceExchange exchange, long maxRequestBytes,
                   RepositoryAccess repository) {
        this.core = core;
        this.info = info;
        this.exchange = exchange;
        this.maxRequestBytes = maxRequestBytes;
        this.repository = repository;
    }

    @Override
    public void routing(HttpRules rules) {
        get(rules, "/v2/health/live", (req, res) -> sendJson(res, 200, OipJson.flags("live", core.live())));
        get(rules, "/v2/health/ready", this::serverReady);
        get(rules, "/v2", (req, res) -> sendJson(res, 200, OipJson.serverMetadata(info.name(), info.version(), info.extensions())));
        for (String base : MODEL_PATHS) {
            get(rules, base, this::modelMetadata);
            get(rules, base + "/ready", this::modelReady);
            get(rules, base + "/config", (req, res) -> sendJson(res, 200,
                    TritonModelConfig.toJson(core.modelConfig(model(req), version(req)))));
        }
        post(rules, "/v2/repository/index", this::repositoryIndex);
        post(rules, "/v2/repository/models/{model}/load", (req, res) -> repositoryChange(req, res, true));
        post(rules, "/v2/repository/models/{model}/unload", (req, res) -> repositoryChange(req, res, false));
    }

    private static final List<String> MODEL_PATHS = List.of("/v2/models/{model}", "/v2/models/{model}/versions/{version}");

    /**
     * The inference routes alone, for the routing to register before every other route: Helidon tries
     * routes in the order they were registered, each one matching the path (a regular expression for
     * a path with parameters), and the infer route used to come after about 25 others that every
     * inference request was tried against first (a few percent of a small model's request CPU). Their
     * paths overlap no other route's, so the order changes no answer.
     *
     * <p>They go onto the routing itself ({@code rules} is the routing's builder), not into a service
     * of their own: Helidon crawls a service's routes with a sub-crawler that copies the path
     * parameters into new maps for every request it routes.
     */
    void inferRoutes(HttpRules rules) {
        // matched without a regular expression (InferPath), the same paths as the templates
        post(rules, InferPath.of(InferPath.MODEL), this::infer);
        post(rules, InferPath.of(InferPath.VERSION), this::infer);
    }

    private void serverReady(ServerRequest req, ServerResponse res) {
        // the core says why it is not ready (loading, a failed version, nothing served) in words
        Optional<String> notReady = exchange.notReadyReason();
        if (notReady.isEmpty()) {
            sendJson(res, 200, OipJson.flags("ready", true));
        } else {
            sendJson(res, 503, OipJson.flags("ready", false, "error", "server is not ready: " + notReady.get()));
        }
    }

    private void modelMetadata(ServerRequest req, ServerResponse res) {
        sendJson(res, 200, OipJson.modelMetadata(core.modelMetadata(model(req), version(req))));
    }

    private void modelReady(ServerRequest req, ServerResponse res) {
        String model = model(req);
        if (core.modelReady(model, version(req))) {
            sendJson(res, 200, OipJson.flags("name", model, "ready", true));
        } else {
            sendJson(res, 503, OipJson.flags("name", model, "ready", false, "error", "model '" + model + "' is not ready"));
        }
    }

    private void infer(ServerRequest req, ServerResponse res) throws IOException {
        InferenceExchange.Result<RestInferResponse> result;
        try {
            result = exchange.infer(model(req), version(req), new RestCall(req));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (result.failed()) {
            RestRoutes.sendFailure(res, result.failure());
            return;
        }
        RestInferResponse encoded = result.answer();
        if (encoded.hasBinary()) {
            // the JSON header's length before any compression: clients inflate the body, then split it (as Triton's do)
            res.header(INFERENCE_HEADER_LENGTH, Integer.toString(encoded.json().length));
            // header and tensors go out one after the other, never concatenated into one array
            Replies.send(res, 200, OCTET_STREAM, encoded.length(), encoded::writeTo);
        } else {
            sendJson(res, 200, encoded.json());
        }
    }

    /** REST's side of an inference request: the body as JSON with Triton's binary tensors, and back. */
    private final class RestCall implements InferenceExchange.Call<RestInferResponse> {
        private final ServerRequest req;
        private RestInferRequest decoded;

        RestCall(ServerRequest req) {
            this.req = req;
        }

        @Override
        public InferenceExchange.Decoded decode(InferenceExchange.RequestSize sizes) {
            // the body is read whole before anything is refused: closing on unread bytes would reset the
            // connection and the client could lose its answer
            byte[] body;
            try {
                body = readBody(req);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            sizes.read(body.length);
            decoded = OipJson.readInferRequest(model(req), version(req), body, inferenceHeaderLength(req, body.length));
            return new InferenceExchange.Decoded(decoded.request(), decoded.classification(), null);
        }

        @Override
        public RestInferResponse encode(InferenceResponse response) {
            return OipJson.writeInferResponse(response, decoded);
        }

        @Override
        public long size(RestInferResponse encoded) {
            return encoded.length();
        }
    }

    private void repositoryIndex(ServerRequest req, ServerResponse res) throws IOException {
        repository.checkRead(authorization(req), MISSING_TOKEN);
        boolean readyOnly = OipJson.readIndexReadyFlag(readBody(req));
        sendJson(res, 200, OipJson.repositoryIndex(exchange.repositoryIndex(readyOnly)));
    }

    private void repositoryChange(ServerRequest req, ServerResponse res, boolean load) throws IOException {
        repository.checkChange(authorization(req), MISSING_TOKEN);
        OipJson.checkOptionalObject(readBody(req));
        exchange.changeRepository(model(req), load);
        sendJson(res, 200, "{}".getBytes(StandardCharsets.UTF_8));
    }

    private static final String MISSING_TOKEN = "the repository API needs 'Authorization: Bearer <token>'";

    private static String authorization(ServerRequest req) {
        return req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
    }

    static String model(ServerRequest req) {
        return pathSegment("model name", req.path().pathParameters().get("model"));
    }

    static String version(ServerRequest req) {
        return req.path().pathParameters().first("version").map(v -> pathSegment("version", v)).orElse(null);
    }

    /** Helidon decodes a bad percent-encoded sequence into U+FFFD; say so instead of looking the name up. */
    private static String pathSegment(String what, String decoded) {
        if (StrictUtf8.hasReplacement(decoded)) {
            throw new InferenceException.InvalidInput("the " + what + " in the path is not valid UTF-8 once percent-decoded");
        }
        return decoded;
    }

    private int inferenceHeaderLength(ServerRequest req, int bodyLength) {
        Optional<String> value = req.headers().first(INFERENCE_HEADER_LENGTH);
        if (value.isEmpty()) {
            return -1;
        }
        try {
            String digits = value.get().trim();
            // digits only: Integer.parseInt would also take "+191", which is no length a client computes
            if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new NumberFormatException();
            }
            int n = Integer.parseInt(digits);
            if (n < 0 || n > bodyLength) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InferenceException.InvalidInput("Inference-Header-Content-Length '" + value.get()
                    + "' must be an integer between 0 and the body length " + bodyLength);
        }
    }

    /** Bodies up to this size are read into one array allocated from their Content-Length. */
    private static final long PREALLOCATE_LIMIT = 16L << 20;

    /**
     * Reads the whole body, refusing more than the limit even when no Content-Length was sent; a body
     * with a Content-Encoding is decoded by Helidon ({@link ContentCodings}) and the limit applies to the
     * decoded bytes, of which no more than the limit is ever inflated.
     */
    private byte[] readBody(ServerRequest req) throws IOException {
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxRequestBytes) {
            throw tooLarge(declared.getAsLong(), null);
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        // a compressed body is longer than its Content-Length once decoded
        String coding = req.headers().first(HeaderNames.CONTENT_ENCODING).map(String::trim)
                .filter(c -> !c.equalsIgnoreCase("identity")).orElse(null);
        // not try-with-resources: closing a body that was abandoned half read (too large, corrupt) makes
        // Helidon wait for more of it from the client, who may be waiting for the answer instead
        InputStream in = req.content().inputStream();
        try {
            byte[] body;
            if (declared.isPresent() && coding == null && declared.getAsLong() <= PREALLOCATE_LIMIT) {
                // one array of the declared size, filled in place: readNBytes(int) would gather chunks and
                // copy them again, a second pass over every byte of a large binary tensor. Past the limit a
                // client's Content-Length alone must not make the server reserve the memory.
                body = new byte[(int) declared.getAsLong()];
                int read = in.readNBytes(body, 0, body.length);
                body = read == body.length ? body : Arrays.copyOf(body, read);
            } else if (declared.isPresent() && coding == null) {
                body = in.readNBytes((int) declared.getAsLong());
            } else {
                body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, maxRequestBytes + 1));
                if (body.length > maxRequestBytes) {
                    throw tooLarge(-1, coding);
                }
            }
            in.close();
            return body;
        } catch (ContentCodings.CorruptBody e) {
            throw new InferenceException.InvalidInput(e.getMessage());
        } catch (DataReader.InsufficientDataAvailableException e) {
            // the client closed its side before the body it announced was complete (Helidon's reader hit the end)
            throw new Failure.BrokenBody("the request body ended before "
                    + (declared.isPresent() ? "the " + declared.getAsLong() + " bytes its Content-Length announced"
                    : "its last chunk") + ": the connection was closed half way");
        } catch (NumberFormatException e) {
            // Helidon's chunked decoder parses each chunk size as hexadecimal and lets the failure through
            throw new Failure.BrokenBody("malformed chunked request body: a chunk size is not a hexadecimal number");
        } catch (HttpException e) {
            // Helidon's own cap on the decoded body (its payload limit, which is max-request-bytes)
            if (e.status().code() == 413) {
                throw tooLarge(-1, coding);
            }
            throw e;
        } catch (IllegalStateException | RequestException e) {
            // Helidon reports a body past its own payload limit this way
            throw tooLarge(-1, null);
        }
    }

    private Failure.TooLarge tooLarge(long size, String coding) {
        return new Failure.TooLarge("request body " + (size >= 0 ? "of " + size + " bytes " : "")
                + "exceeds the limit of " + maxRequestBytes + " bytes"
                + (coding == null ? "" : " once decoded (Content-Encoding: " + coding + ")"));
    }
}
