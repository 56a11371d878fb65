package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.InvalidArgumentException;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of the OCI distribution API berth needs, for one registry, on the JDK's HTTP client:
 * blobs (exists, upload, download verified against the digest), manifests (get, head, put), tags.
 * Authentication follows the registry's {@code WWW-Authenticate} challenge: {@code Basic} sends
 * the credentials, {@code Bearer} exchanges them (or nothing) for a token at the challenge's realm.
 * Thread-safe.
 *
 * <p>Over 400 lines because it is the whole distribution-API surface berth speaks, one documented
 * method per call, with the authentication exchange and error mapping they share; splitting the
 * calls would spread that shared handling over several classes.
 */
public final class OciClient {
    /** Media type of an OCI image manifest. */
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /** Media type of an OCI image index (the referrers fallback tag holds one). */
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("([A-Za-z]+)=\"([^\"]*)\"");
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>;\\s*rel=\"?next\"?");

    private final String registry;
    private final URI base;
    private final Optional<Credentials> credentials;
    private final HttpClient http;
    private final Duration timeout;
    /** The Authorization header value that worked, per scope (Basic: one for all). */
    private final Map<String, String> authorization = new ConcurrentHashMap<>();

    private OciClient(String registry, boolean plainHttp, Optional<Credentials> credentials, Duration timeout) {
        this.registry = registry;
        this.base = URI.create((plainHttp ? "http://" : "https://") + registry);
        this.credentials = credentials;
        this.timeout = timeout;
        // Redirects are followed by hand (blobs only): registries send blob GETs to object storage
        // with a signed URL, which must not also receive the registry's Authorization header.
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * A client for the registry of {@code ref}.
     *
     * @param insecure    allow plain HTTP; only for a loopback registry
     * @param credentials what to authenticate with; empty for anonymous
     * @throws InvalidArgumentException for {@code insecure} with a registry that is not on loopback
     */
    public static OciClient create(OciReference ref, boolean insecure, Optional<Credentials> credentials) {
        if (insecure && !ref.isLoopback()) {
            throw new InvalidArgumentException("--insecure-registry allows plain HTTP to a loopback registry only, not to " + ref.registry());
        }
        return new OciClient(ref.registry(), insecure, credentials, Duration.ofMinutes(10));
    }

    /** The registry host and port. */
    public String registry() {
        return registry;
    }

    // ------------------------------------------------------------------ blobs

    /** Whether the repository holds the blob ({@code HEAD}). */
    public boolean hasBlob(String repository, String digest) {
        HttpResponse<Void> r = send(repository, false, () -> request("/v2/" + repository + "/blobs/" + digest).method("HEAD", HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 404) {
            return false;
        }
        expect(r, null, "HEAD blob " + digest, 200);
        return true;
    }

    /** Uploads a file as a blob in one request (POST then PUT with the digest); {@code progress} hears bytes sent. */
    public void uploadBlob(String repository, String digest, Path file, LongConsumer progress) {
        HttpResponse<byte[]> start = send(repository, true, () -> request("/v2/" + repository + "/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()), HttpResponse.BodyHandlers.ofByteArray());
        expect(start, start.body(), "starting the upload of " + digest, 202);
        String location = start.headers().firstValue("Location")
                .orElseThrow(() -> new OciException(registry + " started an upload without a Location"));
        URI uri = base.resolve(location);
        String sep = uri.getRawQuery() == null ? "?" : "&";
        URI put = URI.create(uri + sep + "digest=" + URLEncoder.encode(digest, StandardCharsets.UTF_8));
        long size = size(file);
        HttpResponse<byte[]> done = send(repository, true, () -> HttpRequest.newBuilder(put).timeout(timeout)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> counting(file, progress)), size)),
                HttpResponse.BodyHandlers.ofByteArray());
        expect(done, done.body(), "uploading " + digest, 201);
    }

    /** Uploads bytes as a blob. */
    public void uploadBlob(String repository, String digest, byte[] content) {
        try {
            Path tmp = Files.createTempFile("berth-blob-", ".tmp");
            try {
                Files.write(tmp, content);
                uploadBlob(repository, digest, tmp, n -> { });
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new OciException("cannot stage a blob: " + e.getMessage(), e);
        }
    }

    /**
     * Downloads a blob into {@code target}, hashing on the way; a blob whose bytes do not hash to
     * {@code digest} is deleted and refused with {@link DigestMismatchException}.
     */
    public void downloadBlob(String repository, String digest, Path target, LongConsumer progress) {
        HttpResponse<InputStream> r = getBlob(repository, digest, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                expect(r, in.readNBytes(64 * 1024), "GET blob " + digest, 200);
            }
            MessageDigest sha = sha256();
            try (OutputStream out = Files.newOutputStream(target)) {
                byte[] buf = new byte[1 << 16];
                long total = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                    total += n;
                    progress.accept(total);
                }
            }
            String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(digest)) {
                Files.deleteIfExists(target);
                throw new DigestMismatchException("blob " + digest + " from " + registry + "/" + repository, digest, actual);
            }
        } catch (IOException e) {
            throw new OciException("downloading " + digest + " from " + registry + " failed: " + e.getMessage(), e);
        }
    }

    /** A small blob (a config) in memory, verified against its digest. */
    public byte[] blob(String repository, String digest, int maxBytes) {
        HttpResponse<byte[]> r = getBlob(repository, digest, HttpResponse.BodyHandlers.ofByteArray());
        expect(r, r.body(), "GET blob " + digest, 200);
        if (r.body().length > maxBytes) {
            throw new OciException("blob " + digest + " is larger than " + maxBytes + " bytes");
        }
        verify(r.body(), digest, "blob " + digest);
        return r.body();
    }

    /** GET of a blob, following up to five redirects without the registry's credentials. */
    private <T> HttpResponse<T> getBlob(String repository, String digest, HttpResponse.BodyHandler<T> handler) {
        HttpResponse<T> r = send(repository, false, () -> request("/v2/" + repository + "/blobs/" + digest).GET(), handler);
        for (int hops = 0; hops < 5 && isRedirect(r.statusCode()); hops++) {
            URI next = r.uri().resolve(r.headers().firstValue("Location")
                    .orElseThrow(() -> new OciException(registry + " redirected blob " + digest + " without a Location")));
            closeQuietly(r);
            try {
                r = http.send(HttpRequest.newBuilder(next).timeout(timeout).GET().build(), handler);
            } catch (IOException e) {
                throw new OciException("fetching blob " + digest + " from " + next.getHost() + " failed: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OciException("interrupted while fetching " + digest, e);
            }
        }
        return r;
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    // ------------------------------------------------------------------ manifests and tags

    /** A manifest as the registry stored it. */
    public record Manifest(String digest, String mediaType, byte[] bytes) {
        /** The manifest parsed. */
        public JsonNode json() {
            try {
                return JSON.readTree(bytes);
            } catch (IOException e) {
                throw new OciException("manifest " + digest + " is not JSON: " + e.getMessage(), e);
            }
        }
    }

    /** The manifest at a tag or digest, its digest computed from the bytes (and checked when asked by digest); empty on 404. */
    public Optional<Manifest> manifest(String repository, String reference) {
        HttpResponse<byte[]> r = send(repository, false, () -> request("/v2/" + repository + "/manifests/" + reference)
                .header("Accept", OCI_MANIFEST + ", " + OCI_INDEX).GET(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        expect(r, r.body(), "GET manifest " + repository + ":" + reference, 200);
        String digest = digest(r.body());
        if (reference.startsWith("sha256:")) {
            verify(r.body(), reference, "manifest " + reference);
        }
        return Optional.of(new Manifest(digest, r.headers().firstValue("Content-Type").orElse(OCI_MANIFEST), r.body()));
    }

    /** The digest a tag points at ({@code HEAD}); empty when the tag does not exist. */
    public Optional<String> manifestDigest(String repository, String reference) {
        HttpResponse<Void> r = send(repository, false, () -> request("/v2/" + repository + "/manifests/" + reference)
                .header("Accept", OCI_MANIFEST + ", " + OCI_INDEX).method("HEAD", HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        expect(r, null, "HEAD manifest " + repository + ":" + reference, 200);
        Optional<String> digest = r.headers().firstValue("Docker-Content-Digest");
        if (digest.isPresent()) {
            return digest;
        }
        return manifest(repository, reference).map(Manifest::digest); // the header is optional in the spec
    }

    /** Stores a manifest under a tag (or its digest); returns its digest. */
    public String putManifest(String repository, String reference, String mediaType, byte[] bytes) {
        HttpResponse<byte[]> r = send(repository, true, () -> request("/v2/" + repository + "/manifests/" + reference)
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)), HttpResponse.BodyHandlers.ofByteArray());
        expect(r, r.body(), "PUT manifest " + repository + ":" + reference, 201);
        return digest(bytes);
    }

    /**
     * Stores a manifest that has a {@code subject} at its digest; returns true when the registry
     * said it indexed the subject ({@code OCI-Subject} header: it has the referrers API), false when
     * the client must keep the referrers tag itself.
     */
    public boolean putReferrer(String repository, byte[] bytes) {
        String digest = digest(bytes);
        HttpResponse<byte[]> r = send(repository, true, () -> request("/v2/" + repository + "/manifests/" + digest)
                .header("Content-Type", OCI_MANIFEST).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)), HttpResponse.BodyHandlers.ofByteArray());
        expect(r, r.body(), "PUT manifest " + repository + "@" + digest, 201);
        return r.headers().firstValue("OCI-Subject").isPresent();
    }

    /**
     * The referrers API's index for a manifest ({@code GET /v2/<repo>/referrers/<digest>}); empty
     * when the registry does not have the API (404), so the caller falls back to the tag schema.
     */
    public Optional<JsonNode> referrers(String repository, String digest) {
        HttpResponse<byte[]> r = send(repository, false, () -> request("/v2/" + repository + "/referrers/" + digest)
                .header("Accept", OCI_INDEX).GET(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        expect(r, r.body(), "GET referrers of " + digest, 200);
        if (!r.headers().firstValue("Content-Type").orElse("").startsWith(OCI_INDEX)) {
            return Optional.empty(); // a registry without the API answering some other page
        }
        try {
            return Optional.of(JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new OciException("referrers of " + digest + " are not JSON: " + e.getMessage(), e);
        }
    }

    /** Every tag of the repository (following {@code Link} pages); empty for a repository that does not exist. */
    public List<String> tags(String repository) {
        List<String> tags = new ArrayList<>();
        String path = "/v2/" + repository + "/tags/list";
        while (path != null) {
            String p = path;
            HttpResponse<byte[]> r = send(repository, false, () -> request(p).GET(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 404) {
                return List.of();
            }
            expect(r, r.body(), "GET tags of " + repository, 200);
            try {
                JsonNode list = JSON.readTree(r.body()).path("tags");
                list.forEach(t -> tags.add(t.asText()));
            } catch (IOException e) {
                throw new OciException("tags list of " + repository + " is not JSON: " + e.getMessage(), e);
            }
            path = r.headers().firstValue("Link").map(NEXT_LINK::matcher).filter(Matcher::find).map(m -> m.group(1)).orElse(null);
        }
        return tags;
    }

    // ------------------------------------------------------------------ HTTP and auth

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
    }

    /**
     * Sends a request, answering the registry's authentication challenge once; {@code push} asks
     * for a token that may also write. Connection failures become {@link OciException}.
     */
    private <T> HttpResponse<T> send(String repository, boolean push, Supplier<HttpRequest.Builder> builder, HttpResponse.BodyHandler<T> handler) {
        String scope = "repository:" + repository + ":" + (push ? "pull,push" : "pull");
        try {
            HttpRequest.Builder first = builder.get();
            String known = authorization.getOrDefault(scope, authorization.get("basic"));
            if (known != null) {
                first.header("Authorization", known);
            }
            HttpResponse<T> r = http.send(first.build(), handler);
            if (r.statusCode() != 401) {
                return r;
            }
            String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
            closeQuietly(r);
            String header = answer(challenge, scope);
            HttpResponse<T> again = http.send(builder.get().header("Authorization", header).build(), handler);
            if (again.statusCode() == 401) {
                closeQuietly(again);
                throw new OciException(registry + " refused the credentials" + credentialSource() + " (HTTP 401)", 401, null);
            }
            return again;
        } catch (ConnectException e) {
            throw new OciException("cannot reach registry " + registry + " (" + base.getScheme() + "): connection refused", e);
        } catch (HttpTimeoutException e) {
            throw new OciException("registry " + registry + " did not answer in time", e);
        } catch (IOException e) {
            String hint = base.getScheme().equals("https") && String.valueOf(e.getMessage()).contains("SSL")
                    ? "; pass --insecure-registry for a plain-HTTP registry on loopback" : "";
            throw new OciException("talking to registry " + registry + " failed: " + e.getMessage() + hint, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OciException("interrupted while talking to " + registry, e);
        }
    }

    private String answer(String challenge, String scope) throws IOException, InterruptedException {
        String scheme = challenge.split(" ", 2)[0];
        if (scheme.equalsIgnoreCase("Basic")) {
            Credentials c = credentials.orElseThrow(() -> new OciException(registry + " asks for a user name and password and none is"
                    + " configured (docker login " + registry + ", or an auths entry in " + Credentials.dockerConfigFile(System.getenv()) + ")", 401, null));
            String header = "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8));
            authorization.put("basic", header);
            return header;
        }
        if (!scheme.equalsIgnoreCase("Bearer")) {
            throw new OciException(registry + " asks for authentication berth does not speak: '" + challenge + "'", 401, null);
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            throw new OciException(registry + " sent a Bearer challenge without a realm", 401, null);
        }
        StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
        if (params.containsKey("service")) {
            url.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8)).append('&');
        }
        url.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        HttpRequest.Builder token = HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofSeconds(30)).GET();
        credentials.ifPresent(c -> token.header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8))));
        HttpResponse<byte[]> r = http.send(token.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new OciException("the token service of " + registry + " answered HTTP " + r.statusCode() + credentialSource(), r.statusCode(), null);
        }
        JsonNode body = JSON.readTree(r.body());
        String value = body.hasNonNull("token") ? body.get("token").asText() : body.path("access_token").asText("");
        if (value.isEmpty()) {
            throw new OciException("the token service of " + registry + " sent no token");
        }
        String header = "Bearer " + value;
        authorization.put(scope, header);
        return header;
    }

    private String credentialSource() {
        return credentials.isPresent() ? " (user '" + credentials.get().username() + "')" : " (no credentials configured)";
    }

    private void expect(HttpResponse<?> r, byte[] body, String what, int status) {
        if (r.statusCode() == status) {
            return;
        }
        String detail = "";
        if (body != null && body.length > 0) {
            try {
                JsonNode errors = JSON.readTree(body).path("errors");
                List<String> parts = new ArrayList<>();
                errors.forEach(e -> parts.add(e.path("code").asText() + ": " + e.path("message").asText()));
                detail = parts.isEmpty() ? "" : " " + String.join("; ", parts);
            } catch (IOException e) {
                detail = "";
            }
        }
        String message = what + " at " + registry + ": HTTP " + r.statusCode() + detail;
        if (r.statusCode() == 404) {
            throw new OciNotFoundException(message);
        }
        throw new OciException(message, r.statusCode(), null);
    }

    private static void closeQuietly(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException e) {
                // the retry does not need this body
            }
        }
    }

    private static InputStream counting(Path file, LongConsumer progress) {
        try {
            return new FilterInputStream(Files.newInputStream(file)) {
                private long total;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        total += n;
                        progress.accept(total);
                    }
                    return n;
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new OciException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code sha256:<hex>} of the bytes. */
    public static String digest(byte[] bytes) {
        return "sha256:" + HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static void verify(byte[] bytes, String expected, String what) {
        String actual = digest(bytes);
        if (!actual.equals(expected)) {
            throw new DigestMismatchException(what, expected, actual);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
