package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Monitoring reports stored next to a version in its repository as OCI referrers: one small
 * artifact per report whose {@code subject} is the version's manifest. Registries with the
 * referrers API index them themselves; for the others the image index under the tag
 * {@code sha256-<hex>} (the distribution spec's tag schema) is kept up to date here.
 */
public final class OciReports {
    /** The artifact type of a monitoring report. */
    public static final String ARTIFACT_TYPE = "application/vnd.berth.monitoring-report.v1";
    /** Media type of the report layer (the report JSON as the server wrote it). */
    public static final String REPORT_TYPE = "application/vnd.berth.monitoring-report.v1+json";
    /** The empty config descriptor of image-spec 1.1. */
    static final String EMPTY_TYPE = "application/vnd.oci.empty.v1+json";
    static final byte[] EMPTY = "{}".getBytes(StandardCharsets.US_ASCII);
    /** Which server wrote a report (host name and process id). */
    public static final String SOURCE = "dev.berth.report.source";
    /** The report's file name in the version's monitoring folder. */
    public static final String FILE = "dev.berth.report.file";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Attempts at the fallback tag's read-modify-write when another writer replaced it meanwhile. */
    private static final int FALLBACK_ATTEMPTS = 8;

    private OciReports() {
    }

    /**
     * One report in the registry.
     *
     * @param digest the report artifact's manifest digest
     * @param source which server wrote it
     * @param file   its file name
     */
    public record Report(String digest, String source, String file) {
    }

    /**
     * A report this process pushed: what its descriptor in an index holds.
     *
     * @param subject     the version manifest it refers to
     * @param digest      its manifest digest
     * @param size        its manifest size
     * @param annotations its annotations
     */
    public record Pushed(String subject, String digest, long size, Map<String, String> annotations) {
    }

    /**
     * Pushes one report as a referrer of the version manifest {@code subjectDigest} ({@code subjectSize} bytes).
     *
     * @return what was pushed, for {@link #ensureListed}
     */
    public static Pushed push(OciClient client, String repository, String subjectDigest, long subjectSize,
                              String file, byte[] report, String source, Instant created) {
        String layerDigest = OciClient.digest(report);
        if (!client.hasBlob(repository, layerDigest)) {
            client.uploadBlob(repository, layerDigest, report);
        }
        String emptyDigest = OciClient.digest(EMPTY);
        if (!client.hasBlob(repository, emptyDigest)) {
            client.uploadBlob(repository, emptyDigest, EMPTY);
        }
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", OciClient.OCI_MANIFEST);
        m.put("artifactType", ARTIFACT_TYPE);
        ObjectNode config = m.putObject("config");
        config.put("mediaType", EMPTY_TYPE);
        config.put("digest", emptyDigest);
        config.put("size", EMPTY.length);
        ObjectNode layer = m.putArray("layers").addObject();
        layer.put("mediaType", REPORT_TYPE);
        layer.put("digest", layerDigest);
        layer.put("size", report.length);
        layer.putObject("annotations").put(OciLayout.TITLE, file);
        ObjectNode subject = m.putObject("subject");
        subject.put("mediaType", OciClient.OCI_MANIFEST);
        subject.put("digest", subjectDigest);
        subject.put("size", subjectSize);
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("org.opencontainers.image.created", created.toString());
        annotations.put(SOURCE, source);
        annotations.put(FILE, file);
        ObjectNode ann = m.putObject("annotations");
        annotations.forEach(ann::put);
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String digest = OciClient.digest(bytes);
        boolean indexed = client.putReferrer(repository, bytes);
        if (!indexed) {
            addToFallbackTag(client, repository, subjectDigest, digest, bytes.length, annotations);
        }
        return new Pushed(subjectDigest, digest, bytes.length, Map.copyOf(annotations));
    }

    /**
     * Adds back to the fallback tag whichever of {@code mine} it no longer lists. Without a
     * conditional PUT, a writer that read the index before another's write can replace it with a
     * version lacking that write; each writer repairing its own entries at its next poll makes the
     * index complete again. Nothing to do on a registry with the referrers API.
     *
     * @return how many entries were added back
     */
    public static int ensureListed(OciClient client, String repository, String subjectDigest, List<Pushed> mine) {
        if (mine.isEmpty() || client.referrers(repository, subjectDigest).isPresent()) {
            return 0;
        }
        Set<String> listed = new HashSet<>();
        list(client, repository, subjectDigest).forEach(r -> listed.add(r.digest()));
        int added = 0;
        for (Pushed p : mine) {
            if (!listed.contains(p.digest())) {
                addToFallbackTag(client, repository, subjectDigest, p.digest(), p.size(), p.annotations());
                added++;
            }
        }
        return added;
    }

    /** The fallback tag of a manifest: {@code sha256-<hex>}. */
    static String fallbackTag(String subjectDigest) {
        return subjectDigest.replace(':', '-');
    }

    /**
     * Adds a descriptor to the index under the fallback tag. The registry has no conditional PUT,
     * so two servers may replace each other's index: after writing, the index is read back and the
     * write repeated (after a short random pause) until it lists this report. A writer that read
     * the index earlier can still drop it afterwards; {@link #ensureListed} repairs that.
     */
    private static void addToFallbackTag(OciClient client, String repository, String subjectDigest, String digest, long size,
                                         Map<String, String> annotations) {
        String tag = fallbackTag(subjectDigest);
        for (int attempt = 0; attempt < FALLBACK_ATTEMPTS; attempt++) {
            ObjectNode index = readIndex(client, repository, tag).map(OciClient.Manifest::json)
                    .filter(JsonNode::isObject).map(n -> (ObjectNode) n).orElseGet(OciReports::emptyIndex);
            if (contains(index, digest)) {
                return;
            }
            ArrayNode manifests = index.withArray("manifests");
            ObjectNode d = manifests.addObject();
            d.put("mediaType", OciClient.OCI_MANIFEST);
            d.put("digest", digest);
            d.put("size", size);
            d.put("artifactType", ARTIFACT_TYPE);
            ObjectNode ann = d.putObject("annotations");
            annotations.forEach(ann::put);
            try {
                client.putManifest(repository, tag, OciClient.OCI_INDEX, JSON.writeValueAsBytes(index));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (OciException e) {
                if (e.status() < 500) {
                    throw e;
                }
                pause(); // the registry tripped over a concurrent writer: read again and retry
                continue;
            }
            if (readIndex(client, repository, tag).map(m -> contains(m.json(), digest)).orElse(false)) {
                return;
            }
            pause();
        }
        throw new OciException("could not add report " + digest + " to " + tag + " after " + FALLBACK_ATTEMPTS + " attempts (other writers)");
    }

    /**
     * The index under the fallback tag. While another writer replaces a tag, CNCF distribution's
     * filesystem storage can answer a read with HTTP 500 (seen with two replicas writing at once):
     * such answers are retried a few times.
     */
    private static Optional<OciClient.Manifest> readIndex(OciClient client, String repository, String tag) {
        for (int attempt = 1; ; attempt++) {
            try {
                return client.manifest(repository, tag);
            } catch (OciException e) {
                if (e.status() < 500 || attempt >= 5) {
                    throw e;
                }
                pause();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50 + ThreadLocalRandom.current().nextInt(200));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OciException("interrupted while indexing a report", e);
        }
    }

    private static ObjectNode emptyIndex() {
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", OciClient.OCI_INDEX);
        index.putArray("manifests");
        return index;
    }

    private static boolean contains(JsonNode index, String digest) {
        for (JsonNode d : index.path("manifests")) {
            if (digest.equals(d.path("digest").asText())) {
                return true;
            }
        }
        return false;
    }

    /** The reports referring to a version manifest: the referrers API where the registry has it, else the fallback tag. */
    public static List<Report> list(OciClient client, String repository, String subjectDigest) {
        Optional<JsonNode> index = client.referrers(repository, subjectDigest);
        JsonNode manifests = index.orElseGet(() -> readIndex(client, repository, fallbackTag(subjectDigest))
                .map(OciClient.Manifest::json).orElse(JSON.createObjectNode())).path("manifests");
        List<Report> reports = new ArrayList<>();
        for (JsonNode d : manifests) {
            if (ARTIFACT_TYPE.equals(d.path("artifactType").asText())) {
                reports.add(new Report(d.path("digest").asText(), d.path("annotations").path(SOURCE).asText(""),
                        d.path("annotations").path(FILE).asText("")));
            }
        }
        return reports;
    }

    /** A report's JSON, verified against its digests. */
    public static byte[] fetch(OciClient client, String repository, Report report) {
        OciClient.Manifest m = client.manifest(repository, report.digest())
                .orElseThrow(() -> new OciNotFoundException("report " + report.digest() + " is gone from " + repository));
        JsonNode layer = m.json().path("layers").path(0);
        if (!REPORT_TYPE.equals(layer.path("mediaType").asText())) {
            throw new OciException("referrer " + report.digest() + " is not a berth monitoring report");
        }
        return client.blob(repository, layer.path("digest").asText(), OciLayout.MAX_CONFIG_BYTES);
    }
}
