package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.OciClient;
import dev.berth.oci.OciReference;
import dev.berth.registry.FileEntry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads a serving image back: from a tarball ({@code berth package --to tar:F}, {@code docker save},
 * {@code podman save} in docker-archive or oci-archive form) or from an OCI registry. It walks the
 * image's layers in order (a later layer's file replacing an earlier one's), hashing every file of
 * the version folder under {@value ImagePackager#MODELS_DIR} and keeping the packaged manifest and
 * dependency manifest, so that {@link ImageContents#checks()} compares what the image holds with
 * what its manifest promises.
 */
public final class ImageInspector {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Top-level tar entries kept in memory to find the image manifest and configuration (layers are streamed). */
    private static final long SMALL_ENTRY = 4L << 20;
    private static final int MAX_JSON = 16 << 20;

    private ImageInspector() {
    }

    /** The image in a tarball, docker-archive ({@code manifest.json}) or oci-archive ({@code index.json}). */
    public static ImageContents fromTar(Path tar) {
        if (!Files.isRegularFile(tar)) {
            throw new PackagingException.InvalidOptionException("no image tarball at " + tar);
        }
        try {
            Map<String, byte[]> small = smallEntries(tar);
            ImageLayout layout = small.containsKey("manifest.json") ? dockerArchive(small)
                    : small.containsKey("index.json") ? ociArchive(small)
                    : null;
            if (layout == null) {
                throw new PackagingException.InvalidOptionException(tar + " is not an image tarball: it has neither manifest.json "
                        + "(docker-archive) nor index.json (oci-archive) at its top level");
            }
            Walker walker = new Walker();
            Map<String, Integer> order = new HashMap<>();
            for (int i = 0; i < layout.layers().size(); i++) {
                order.put(layout.layers().get(i), i);
            }
            // layers are applied in the manifest's order; a tarball may store them in any order, so each is read once into its slot
            Map<Integer, Map<String, Object>> perLayer = new TreeMap<>();
            try (TarArchiveInputStream in = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tar)))) {
                for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                    Integer slot = order.get(normalise(e.getName()));
                    if (slot != null && e.isFile()) {
                        Walker one = new Walker();
                        one.layer(in);
                        perLayer.put(slot, one.found);
                    }
                }
            }
            if (perLayer.size() != layout.layers().size()) {
                throw new PackagingException.InvalidOptionException(tar + ": the image manifest names " + layout.layers().size()
                        + " layers, the tarball holds " + perLayer.size());
            }
            perLayer.values().forEach(walker.found::putAll);
            return walker.contents(tar.toString(), null, labels(layout.config()));
        } catch (IOException e) {
            throw new PackagingException("cannot read the image tarball " + tar + ": " + e.getMessage(), e);
        }
    }

    /** The image at a registry reference; layers are streamed from the registry, each verified against its digest. */
    public static ImageContents fromRegistry(OciClient client, OciReference ref) {
        String reference = ref.reference().orElse("latest");
        OciClient.Manifest manifest = client.manifest(ref.repository(), reference)
                .orElseThrow(() -> new PackagingException.InvalidOptionException("no image at " + ref));
        JsonNode json = manifest.json();
        if (json.has("manifests")) {
            // an index (several platforms): berth builds one platform, so the first manifest is the image
            String first = json.path("manifests").path(0).path("digest").asText();
            manifest = client.manifest(ref.repository(), first)
                    .orElseThrow(() -> new PackagingException.InvalidOptionException("the index at " + ref + " names " + first + ", which is missing"));
            json = manifest.json();
        }
        byte[] config = client.blob(ref.repository(), json.path("config").path("digest").asText(), MAX_JSON);
        Walker walker = new Walker();
        try {
            for (JsonNode layer : json.path("layers")) {
                Path tmp = Files.createTempFile("berth-inspect-", ".layer");
                try {
                    client.downloadBlob(ref.repository(), layer.path("digest").asText(), tmp, n -> { });
                    try (InputStream in = Files.newInputStream(tmp)) {
                        walker.layer(in);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        } catch (IOException e) {
            throw new PackagingException("cannot read the layers of " + ref + ": " + e.getMessage(), e);
        }
        return walker.contents(ref.toString(), manifest.digest(), labels(config));
    }

    private record ImageLayout(byte[] config, List<String> layers) {
    }

    private static ImageLayout dockerArchive(Map<String, byte[]> small) throws IOException {
        JsonNode first = JSON.readTree(small.get("manifest.json")).path(0);
        List<String> layers = new ArrayList<>();
        first.path("Layers").forEach(l -> layers.add(normalise(l.asText())));
        return new ImageLayout(require(small, normalise(first.path("Config").asText())), layers);
    }

    private static ImageLayout ociArchive(Map<String, byte[]> small) throws IOException {
        JsonNode index = JSON.readTree(small.get("index.json"));
        JsonNode manifest = JSON.readTree(require(small, blobPath(index.path("manifests").path(0).path("digest").asText())));
        if (manifest.has("manifests")) {
            manifest = JSON.readTree(require(small, blobPath(manifest.path("manifests").path(0).path("digest").asText())));
        }
        List<String> layers = new ArrayList<>();
        manifest.path("layers").forEach(l -> layers.add(blobPath(l.path("digest").asText())));
        return new ImageLayout(require(small, blobPath(manifest.path("config").path("digest").asText())), layers);
    }

    private static String blobPath(String digest) {
        return "blobs/" + digest.replace(':', '/');
    }

    private static byte[] require(Map<String, byte[]> small, String name) {
        byte[] b = small.get(name);
        if (b == null) {
            throw new PackagingException.InvalidOptionException("the image tarball lacks " + name + ", which its manifest names");
        }
        return b;
    }

    private static Map<String, byte[]> smallEntries(Path tar) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tar)))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.isFile() && e.getSize() <= SMALL_ENTRY) {
                    out.put(normalise(e.getName()), in.readAllBytes());
                }
            }
        }
        return out;
    }

    private static Map<String, String> labels(byte[] config) {
        try {
            JsonNode l = JSON.readTree(config).path("config").path("Labels");
            Map<String, String> out = new LinkedHashMap<>();
            l.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        } catch (IOException e) {
            throw new PackagingException("the image configuration is not JSON: " + e.getMessage(), e);
        }
    }

    private static String normalise(String name) {
        String n = name.replace('\\', '/');
        while (n.startsWith("./") || n.startsWith("/")) {
            n = n.startsWith("./") ? n.substring(2) : n.substring(1);
        }
        return n;
    }

    /** Walks layers, keeping the last copy of each file of interest. */
    private static final class Walker {
        private static final String MODELS = normalise(ImagePackager.MODELS_DIR) + "/";
        private static final String MANIFEST = normalise(ImagePackager.MANIFEST_PATH);
        private static final String DEPENDENCIES = normalise(ImagePackager.DEPENDENCIES_PATH);
        /** Image path -> FileEntry (a version file) or byte[] (the metadata files). */
        final Map<String, Object> found = new LinkedHashMap<>();

        void layer(InputStream raw) throws IOException {
            TarArchiveInputStream tar = DockerArchive.tar(raw);
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                String name = normalise(e.getName());
                if (!e.isFile()) {
                    continue;
                }
                if (name.equals(MANIFEST) || name.equals(DEPENDENCIES)) {
                    found.put(name, tar.readNBytes(MAX_JSON));
                } else if (name.startsWith(MODELS)) {
                    found.put(name, hash(name, tar));
                }
            }
        }

        ImageContents contents(String source, String imageDigest, Map<String, String> labels) {
            byte[] manifestJson = (byte[]) found.get(MANIFEST);
            if (manifestJson == null) {
                throw new PackagingException.InvalidOptionException(source + " was not built by berth package: it has no "
                        + ImagePackager.MANIFEST_PATH);
            }
            ModelManifest manifest;
            try {
                manifest = RegistryJson.mapper().readValue(manifestJson, ModelManifest.class);
            } catch (IOException e) {
                throw new PackagingException.InvalidOptionException(source + ": " + ImagePackager.MANIFEST_PATH + " is not a berth manifest: "
                        + e.getMessage().lines().findFirst().orElse(""));
            }
            String versionDir = MODELS + manifest.name() + "/" + manifest.version() + "/";
            Map<String, FileEntry> files = new LinkedHashMap<>();
            found.forEach((path, value) -> {
                if (path.startsWith(versionDir) && value instanceof FileEntry f) {
                    String rel = path.substring(versionDir.length());
                    files.put(rel, new FileEntry(rel, f.size(), f.sha256()));
                }
            });
            byte[] deps = (byte[]) found.get(DEPENDENCIES);
            return new ImageContents(source, imageDigest, labels, manifest, manifestJson,
                    deps == null ? null : new String(deps, StandardCharsets.UTF_8), files);
        }

        private static FileEntry hash(String name, InputStream in) throws IOException {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            DigestInputStream d = new DigestInputStream(in, sha);
            long size = d.transferTo(OutputStream.nullOutputStream());
            return new FileEntry(name, size, HexFormat.of().formatHex(sha.digest()));
        }
    }

    /** The registry reference in IMAGE, or empty when IMAGE is a tarball (an existing file, or {@code tar:F}). */
    public static Optional<Path> tarball(String image) {
        if (image.startsWith("tar:")) {
            return Optional.of(Path.of(image.substring(4)));
        }
        Path p = Path.of(image);
        return Files.isRegularFile(p) || image.endsWith(".tar") ? Optional.of(p) : Optional.empty();
    }
}
