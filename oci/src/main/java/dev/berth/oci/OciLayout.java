package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.registry.FileEntry;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.ModelManifest;

import java.io.IOException;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a model version is laid out as an OCI artifact (docs/registry-format.md, "In an OCI
 * registry"): an image manifest with berth's {@code artifactType}, the version's
 * {@code manifest.json} as config, one uncompressed layer per stored file titled with its path.
 */
public final class OciLayout {
    /** The artifact type of a berth model version. */
    public static final String ARTIFACT_TYPE = "application/vnd.berth.model-version.v1";
    /** Media type of the config blob: the version's manifest.json. */
    public static final String CONFIG_TYPE = "application/vnd.berth.model-version.config.v1+json";
    /** Media type of each layer: one stored file, uncompressed. */
    public static final String FILE_TYPE = "application/vnd.berth.file.v1";
    /** The annotation that names a layer's file (ORAS and registry UIs show it). */
    public static final String TITLE = "org.opencontainers.image.title";
    static final String NAME = "dev.berth.model.name";
    static final String VERSION = "dev.berth.model.version";
    static final String MODEL_SHA256 = "dev.berth.model.sha256";
    static final String METRIC_PREFIX = "dev.berth.metric.";
    /** Largest config (manifest.json) berth reads from a registry. */
    static final int MAX_CONFIG_BYTES = 16 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciLayout() {
    }

    /** One layer: the file it holds and its size in bytes. */
    public record Layer(FileEntry file, long size) {
        /** {@code sha256:<hex>}. */
        public String digest() {
            return "sha256:" + file.sha256().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The image manifest bytes for a version (canonical: the same version gives the same bytes).
     *
     * @param manifest the version's manifest
     * @param config   its {@code manifest.json} bytes, as stored
     * @param layers   one per stored file, in {@link ModelManifest#storedFiles()} order, with real sizes
     */
    public static byte[] imageManifest(ModelManifest manifest, byte[] config, List<Layer> layers) {
        ObjectNode root = JSON.createObjectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", OciClient.OCI_MANIFEST);
        root.put("artifactType", ARTIFACT_TYPE);
        ObjectNode cfg = root.putObject("config");
        cfg.put("mediaType", CONFIG_TYPE);
        cfg.put("digest", OciClient.digest(config));
        cfg.put("size", config.length);
        ArrayNode ls = root.putArray("layers");
        for (Layer l : layers) {
            ObjectNode d = ls.addObject();
            d.put("mediaType", FILE_TYPE);
            d.put("digest", l.digest());
            d.put("size", l.size());
            d.putObject("annotations").put(TITLE, l.file().path());
        }
        ObjectNode ann = root.putObject("annotations");
        annotations(manifest).forEach(ann::put);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The manifest-level annotations of a version. */
    static Map<String, String> annotations(ModelManifest m) {
        Map<String, String> a = new LinkedHashMap<>();
        if (m.created() != null) {
            a.put("org.opencontainers.image.created", DateTimeFormatter.ISO_INSTANT.format(m.created()));
        }
        if (!m.author().isEmpty()) {
            a.put("org.opencontainers.image.authors", m.author());
        }
        a.put("org.opencontainers.image.title", m.name() + ":" + m.version());
        if (!m.description().isEmpty()) {
            a.put("org.opencontainers.image.description", m.description());
        }
        a.put(NAME, m.name());
        a.put(VERSION, Integer.toString(m.version()));
        a.put(MODEL_SHA256, m.modelFile().sha256());
        m.metrics().forEach((k, v) -> {
            if (v instanceof Number n) {
                a.put(METRIC_PREFIX + k, n.toString());
            }
        });
        return a;
    }

    /**
     * A version's image manifest read back: refused unless it is berth's artifact type with a
     * config and berth file layers, each titled.
     *
     * @param digest      the manifest's digest
     * @param config      the config descriptor's digest
     * @param layers      layer digest and title, in order
     * @param annotations manifest annotations
     */
    public record VersionManifest(String digest, String config, long configSize, List<RemoteLayer> layers, Map<String, String> annotations) {
        /** The version number the annotations carry, or 0. */
        public int version() {
            String v = annotations.get(VERSION);
            return v != null && v.matches("[1-9][0-9]{0,8}") ? Integer.parseInt(v) : 0;
        }

        /** The model name the annotations carry, or empty. */
        public String name() {
            return annotations.getOrDefault(NAME, "");
        }
    }

    /** One layer as the registry lists it. */
    public record RemoteLayer(String digest, long size, String title) {
    }

    /** Whether a parsed manifest is a berth model version. */
    public static boolean isVersion(JsonNode manifest) {
        return ARTIFACT_TYPE.equals(manifest.path("artifactType").asText())
                || CONFIG_TYPE.equals(manifest.path("config").path("mediaType").asText());
    }

    /** Parses a version's image manifest; {@link InvalidArgumentException} when it is not one. */
    public static VersionManifest parse(OciClient.Manifest m, String where) {
        JsonNode root = m.json();
        if (!isVersion(root)) {
            throw new InvalidArgumentException(where + " is not a berth model version (artifactType '"
                    + root.path("artifactType").asText(root.path("config").path("mediaType").asText("none")) + "')");
        }
        List<RemoteLayer> layers = new ArrayList<>();
        for (JsonNode l : root.path("layers")) {
            String title = l.path("annotations").path(TITLE).asText("");
            if (title.isEmpty()) {
                throw new InvalidArgumentException(where + ": layer " + l.path("digest").asText() + " has no " + TITLE);
            }
            layers.add(new RemoteLayer(l.path("digest").asText(), l.path("size").asLong(-1), title));
        }
        Map<String, String> ann = new LinkedHashMap<>();
        root.path("annotations").properties().forEach(e -> ann.put(e.getKey(), e.getValue().asText()));
        return new VersionManifest(m.digest(), root.path("config").path("digest").asText(), root.path("config").path("size").asLong(-1),
                layers, ann);
    }

    /**
     * Checks that the layers and the config's file list say the same: every stored file has a layer
     * with its path and digest, and no layer is extra. A registry cannot so slip in a file the
     * version did not register.
     */
    static void requireConsistent(VersionManifest v, ModelManifest config, String where) {
        Map<String, String> fromConfig = new LinkedHashMap<>();
        config.storedFiles().forEach(f -> fromConfig.put(f.path(), "sha256:" + f.sha256().toLowerCase(Locale.ROOT)));
        Map<String, String> fromLayers = new LinkedHashMap<>();
        v.layers().forEach(l -> fromLayers.put(l.title(), l.digest()));
        if (!fromConfig.equals(fromLayers)) {
            throw new InvalidArgumentException(where + ": the layers " + fromLayers.keySet() + " do not match the files its manifest.json lists "
                    + fromConfig.keySet() + " with their digests");
        }
    }
}
