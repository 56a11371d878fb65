package dev.berth.server;

import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import dev.berth.server.codec.Classification;
import dev.berth.server.spi.RequestMetrics;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * What both front ends do around the core, written once so that they cannot drift apart: admission
 * (the drain), the request's timeout, the version a request is counted under, the request metrics,
 * classification, which failure a bad request to an unknown model gets, the ready filter of the
 * repository index. An adapter only reads and decodes its protocol's message ({@link Call#decode})
 * and encodes the answer ({@link Call#encode}); one exchange serves one front end.
 *
 * <p>What the payload sizes in the request metrics mean, the same on both protocols:
 * <ul>
 *   <li>request bytes: the inference request as the server read it (REST: the body after any
 *       Content-Encoding is undone; gRPC: the serialized {@code ModelInferRequest}); none is recorded
 *       for a request that was not read whole or did not parse as a message of its protocol
 *       (over the size limit, a broken protobuf message), whose size the server does not know;</li>
 *   <li>response bytes: the inference response (REST: the JSON and binary tensor body before any
 *       compression; gRPC: the serialized {@code ModelInferResponse}); none is recorded for a failed
 *       request: its answer is an error message, not a response, and gRPC sends it as a status.</li>
 * </ul>
 */
final class InferenceExchange {
    private final InferenceService core;
    private final RequestMetrics metrics;
    private final RequestMetrics.Protocol protocol;
    private final InFlight inFlight;
    private final Admission admission;
    private final Duration maxRequestTime;

    /**
     * How a front end's work is admitted into the drain ({@link InFlight}). REST counts a whole HTTP
     * exchange from its first byte ({@link Replies#filter}), so its admission only asks whether that
     * exchange was admitted; gRPC counts each call here.
     */
    interface Admission {
        boolean enter();

        void exit();

        /** Admission decided by the REST filter for the exchange on this thread. */
        static Admission ofExchange(BooleanSupplier admitted) {
            return new Admission() {
                @Override
                public boolean enter() {
                    return admitted.getAsBoolean();
                }

                @Override
                public void exit() {
                }
            };
        }

        /** Each call enters and leaves the drain itself. */
        static Admission ofCalls(InFlight inFlight) {
            return new Admission() {
                @Override
                public boolean enter() {
                    return inFlight.enter();
                }

                @Override
                public void exit() {
                    inFlight.exit();
                }
            };
        }
    }

    /**
     * A request as its protocol decoded it.
     *
     * @param request        the protocol-neutral request
     * @param classification output name to the number of top classes asked for; empty for none
     * @param callDeadline   time left of the call's own deadline (gRPC's {@code grpc-timeout}), or null
     */
    record Decoded(InferenceRequest request, Map<String, Integer> classification, Duration callDeadline) {
    }

    /**
     * One protocol's side of one inference request.
     *
     * @param <E> the encoded answer
     */
    interface Call<E> {
        /**
         * Reads and decodes the request, first telling {@code sizes} how many bytes it read.
         *
         * @throws UncheckedIOException when the request could not be read (the client went away); it
         *                              leaves {@link #infer} as it is, with nothing to answer
         * @throws RuntimeException     a failure {@link Failure#of} classifies (bad input, too large)
         */
        Decoded decode(RequestSize sizes);

        /** Encodes the answer (outputs already classified). */
        E encode(InferenceResponse response);

        /** The encoded answer's size, as the class comment defines it. */
        long size(E encoded);
    }

    /** Where a {@link Call} records the size of the request it read. */
    static final class RequestSize {
        private long bytes = -1;

        void read(long bytes) {
            this.bytes = bytes;
        }
    }

    /** The answer to send, or the failure to send instead. */
    record Result<E>(E answer, Failure failure) {
        boolean failed() {
            return failure != null;
        }
    }

    InferenceExchange(InferenceService core, RequestMetrics metrics, RequestMetrics.Protocol protocol, InFlight inFlight,
                      Admission admission, Duration maxRequestTime) {
        this.core = core;
        this.metrics = metrics;
        this.protocol = protocol;
        this.inFlight = inFlight;
        this.admission = admission;
        this.maxRequestTime = maxRequestTime;
    }

    /**
     * One inference request through the core, counted in the request metrics whatever its outcome,
     * before the answer leaves (a client that has its answer also sees it counted).
     *
     * @param model   the model as the client named it ("" when the message named none it could read)
     * @param version the version as the client named it, or null for the default
     */
    <E> Result<E> infer(String model, String version, Call<E> call) {
        long start = System.nanoTime();
        metrics.requestStarted(protocol);
        RequestSize size = new RequestSize();
        String answeredVersion = "";
        E answer = null;
        Failure failure = null;
        boolean admitted = false;
        try {
            Decoded decoded;
            try {
                decoded = call.decode(size);
            } catch (UncheckedIOException e) {
                // the client's connection broke while it sent the request: there is no one to answer
                metrics.requestFinished(protocol, model, "", RequestMetrics.Outcome.CLIENT_ERROR,
                        System.nanoTime() - start, -1, -1);
                throw e;
            }
            admitted = admission.enter();
            if (!admitted) {
                throw new InferenceException.Unavailable("server is shutting down");
            }
            InferenceResponse answered = core.infer(RequestTimeout.apply(decoded.request(), decoded.callDeadline(),
                    maxRequestTime));
            // set before the response is shaped, so a failure there still counts for this version
            answeredVersion = Integer.toString(answered.version());
            answer = call.encode(Classification.apply(answered, decoded.classification(), this::outputSpecs));
        } catch (RuntimeException e) {
            if (answeredVersion.isEmpty()) {
                answeredVersion = Failure.versionLabel(e);
            }
            // a message that named no model has no model to prefer NOT_FOUND for
            failure = model.isEmpty() ? Failure.of(e) : Failure.preferNotFound(Failure.of(e), core, model, version);
        } finally {
            if (admitted) {
                admission.exit();
            }
        }
        metrics.requestFinished(protocol, model, answeredVersion,
                failure == null ? RequestMetrics.Outcome.SUCCESS : failure.kind().outcome(),
                System.nanoTime() - start, size.bytes, failure == null ? call.size(answer) : -1);
        return new Result<>(answer, failure);
    }

    /** The answering version's output specs (class labels), asked for only when a request wants classification. */
    private List<TensorSpec> outputSpecs(InferenceResponse r) {
        return core.modelMetadata(r.model(), Integer.toString(r.version())).outputs();
    }

    /** The repository index, all of it or only what is READY (both protocols' {@code ready} flag). */
    List<ModelStatus> repositoryIndex(boolean readyOnly) {
        List<ModelStatus> index = core.repositoryIndex();
        return readyOnly ? index.stream().filter(s -> s.state() == ModelState.READY).toList() : index;
    }

    /** Loads ({@code load}) or unloads a model, refused with UNAVAILABLE once the drain has begun. */
    void changeRepository(String model, boolean load) {
        if (!admission.enter()) {
            throw new InferenceException.Unavailable("server is shutting down");
        }
        try {
            if (load) {
                core.load(model);
            } else {
                core.unload(model);
            }
        } finally {
            admission.exit();
        }
    }

    /** Why the server is not ready (shutting down, or what the core says), empty when it is. */
    Optional<String> notReadyReason() {
        return inFlight.draining() ? Optional.of("server is shutting down") : core.notReadyReason();
    }
}
