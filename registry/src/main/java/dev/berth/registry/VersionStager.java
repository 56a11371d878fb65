package dev.berth.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Fills a staging folder for a new version: copies the model and every artifact in (hashing on
 * the way), reads the signature from the staged model, parses metrics, params, requirements and
 * a supplied signature or lineage file, and resolves data and code references. Touches nothing
 * outside the staging folder, so any failure here is undone by removing that folder.
 */
final class VersionStager {
    static final String DATA_DIR = "data";
    static final String CODE_DIR = "code";

    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.+");
    private static final Pattern GIT_COMMIT = Pattern.compile("[0-9a-f]{7,40}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final RegistryWriter.Hook hook;

    VersionStager(RegistryWriter.Hook hook) {
        this.hook = hook;
    }

    /** Everything staged for a version except its number and time, which are fixed under the lock. */
    record Staged(Registration r, FileEntry model, Signature signature, Map<String, Object> metrics,
                          Map<String, Object> params, ModelManifest.Dependencies dependencies,
                          ModelManifest.Lineage lineage, List<FileEntry> artifacts) {
        ModelManifest manifest(int version) {
            return new ModelManifest(ModelManifest.FORMAT, r.name(), version, Instant.now().truncatedTo(ChronoUnit.SECONDS),
                    r.author(), r.description(), r.tags(), List.of(model), signature, metrics, params, dependencies,
                    lineage, artifacts, r.serving().orElse(null));
        }
    }

    Staged stage(Registration r, SignatureReader reader, Path staging) throws IOException {
        Set<String> taken = new HashSet<>(Set.of(LocalRegistry.MODEL_FILE, LocalRegistry.MANIFEST_FILE,
                LocalRegistry.MONITORING_DIR, LocalRegistry.PERF_DIR, LocalRegistry.LAYOUT_FILE, DATA_DIR, CODE_DIR));
        List<FileEntry> artifacts = new ArrayList<>();

        FileEntry model = copyIn(r.modelFile(), "model file", staging, LocalRegistry.MODEL_FILE);
        // Read the signature from the staged copy: the hash recorded and the graph inspected are the same bytes.
        Path stagedModel = staging.resolve(LocalRegistry.MODEL_FILE);
        Signature signature;
        try {
            signature = reader.read(stagedModel);
        } catch (InvalidModelException e) {
            // Name the caller's file, not the hidden staging copy the reader saw.
            String message = e.getMessage() == null ? "not a loadable model"
                    : e.getMessage().replace(stagedModel.toString(), r.modelFile().toString());
            throw new InvalidModelException(message, e);
        }

        Map<String, Object> metrics = Map.of();
        if (r.metricsFile().isPresent()) {
            FileEntry f = copyArtifact(r.metricsFile().get(), "metrics file", staging, taken);
            artifacts.add(f);
            metrics = readObject(staging.resolve(f.path()), r.metricsFile().get(), "metrics file", false);
        }
        Map<String, Object> params = Map.of();
        if (r.paramsFile().isPresent()) {
            FileEntry f = copyArtifact(r.paramsFile().get(), "params file", staging, taken);
            artifacts.add(f);
            params = readObject(staging.resolve(f.path()), r.paramsFile().get(), "params file", true);
        }
        String requirementsPath = null;
        List<String> requirements = List.of();
        if (r.requirementsFile().isPresent()) {
            FileEntry f = copyArtifact(r.requirementsFile().get(), "requirements file", staging, taken);
            artifacts.add(f);
            requirementsPath = f.path();
            requirements = requirementLines(staging.resolve(f.path()), r.requirementsFile().get());
        }
        JsonNode supplied = null;
        if (r.signatureFile().isPresent()) {
            FileEntry f = copyArtifact(r.signatureFile().get(), "signature file", staging, taken);
            artifacts.add(f);
            supplied = readJson(staging.resolve(f.path()), r.signatureFile().get(), "signature file");
            if (!supplied.isObject()) {
                throw new InvalidArgumentException("signature file " + r.signatureFile().get() + " must hold a JSON object");
            }
            JsonNode sig = supplied.has("signature") ? supplied.get("signature") : supplied;
            signature = SignatureEnricher.enrich(signature, sig, r.signatureFile().get().toString());
        }

        List<ModelManifest.DataRef> data = stageData(r, staging, supplied);
        ModelManifest.CodeRef code = stageCode(r, staging, supplied);
        Map<String, Object> extra = new LinkedHashMap<>();
        if (supplied != null && supplied.has("signature")) {
            // A lineage file: keep its other facts (split hash, Python version, ...) as they were supplied.
            supplied.properties().forEach(e -> {
                if (!List.of("signature", "data", "code").contains(e.getKey())) {
                    extra.put(e.getKey(), RegistryJson.mapper().convertValue(e.getValue(), Object.class));
                }
            });
        }
        for (Registration.Artifact artifact : r.artifacts()) {
            artifacts.add(copyArtifact(artifact.source(), artifact.storedAs(), "artifact", staging, taken));
        }
        if (supplied != null && supplied.has("signature") && supplied.get("split") instanceof ObjectNode split
                && split.path("file").isTextual() && split.path("sha256").isTextual()) {
            // The lineage names the split by hash; a split file stored beside it must be that file.
            String file = Path.of(split.get("file").asText()).getFileName().toString();
            String sha = split.get("sha256").asText();
            for (FileEntry f : artifacts) {
                if (f.path().equals(file) && !f.sha256().equalsIgnoreCase(sha)) {
                    throw new InvalidArgumentException("split file '" + file + "' does not match its sha256 in "
                            + r.signatureFile().orElseThrow() + " (lineage says " + sha + ", file has " + f.sha256() + ")");
                }
            }
        }
        return new Staged(r, model, signature, metrics, params,
                new ModelManifest.Dependencies(requirementsPath, requirements, r.runtime()),
                new ModelManifest.Lineage(data, code, extra), artifacts);
    }

    private List<ModelManifest.DataRef> stageData(Registration r, Path staging, JsonNode lineage) throws IOException {
        List<ModelManifest.DataRef> data = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String spec : r.data()) {
            Path local = Path.of(spec.isBlank() ? "." : spec);
            if (URI_SCHEME.matcher(spec).matches() && !Files.exists(local)) {
                data.add(dataUri(spec));
                continue;
            }
            String fileName = local.getFileName() == null ? spec : local.getFileName().toString();
            if (!names.add(fileName)) {
                throw new InvalidArgumentException("two data files are named '" + fileName + "'; data files are stored by file name");
            }
            FileEntry f = copyIn(local, "data file", staging, DATA_DIR + "/" + fileName);
            data.add(new ModelManifest.DataRef(fileName, f.path(), null, f.sha256(), f.size()));
        }
        if (lineage != null && lineage.has("signature") && lineage.get("data") instanceof ObjectNode declared) {
            for (var e : (Iterable<Map.Entry<String, JsonNode>>) declared.properties()::iterator) {
                String declaredName = Path.of(e.getKey()).getFileName().toString();
                String sha = e.getValue().asText();
                Optional<ModelManifest.DataRef> copied = data.stream().filter(d -> declaredName.equals(d.name())).findFirst();
                if (copied.isPresent()) {
                    if (copied.get().sha256() != null && !copied.get().sha256().equalsIgnoreCase(sha)) {
                        throw new InvalidArgumentException("data file '" + declaredName + "' does not match its sha256 in "
                                + r.signatureFile().orElseThrow() + " (lineage says " + sha + ", file has " + copied.get().sha256() + ")");
                    }
                } else {
                    // Named by the lineage but not supplied: keep the fingerprint, the data itself lives elsewhere.
                    data.add(new ModelManifest.DataRef(declaredName, null, null, sha, null));
                }
            }
        }
        return data;
    }

    private static ModelManifest.DataRef dataUri(String spec) {
        URI uri;
        try {
            uri = URI.create(spec);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("'" + spec + "' is neither an existing file nor a valid URI");
        }
        String path = uri.getPath() == null ? spec : uri.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        String sha = null;
        Long size = null;
        if ("file".equalsIgnoreCase(uri.getScheme())) {
            // A local file referenced rather than copied: fingerprint it now so later drift is visible.
            Path p = Path.of(uri);
            if (!Files.isRegularFile(p)) {
                throw new InvalidArgumentException("data URI " + spec + " names no readable file");
            }
            try {
                sha = AtomicFiles.sha256(p);
                size = Files.size(p);
            } catch (IOException e) {
                throw new InvalidArgumentException("cannot read data " + spec + ": " + e.getMessage(), e);
            }
        }
        return new ModelManifest.DataRef(name.isEmpty() ? spec : name, null, spec, sha, size);
    }

    private ModelManifest.CodeRef stageCode(Registration r, Path staging, JsonNode lineage) throws IOException {
        if (r.code().isPresent()) {
            String spec = r.code().get();
            Path local = Path.of(spec.isBlank() ? "." : spec);
            if (Files.isRegularFile(local)) {
                FileEntry f = copyIn(local, "code file", staging, CODE_DIR + "/" + local.getFileName());
                return new ModelManifest.CodeRef(f.path(), null, f.sha256(), null, local.getFileName().toString());
            }
            if (GIT_COMMIT.matcher(spec).matches()) {
                return new ModelManifest.CodeRef(null, null, null, spec, null);
            }
            if (URI_SCHEME.matcher(spec).matches()) {
                try {
                    URI.create(spec);
                } catch (IllegalArgumentException e) {
                    throw new InvalidArgumentException("code reference '" + spec + "' is not a valid URL");
                }
                return new ModelManifest.CodeRef(null, spec, null, null, null);
            }
            throw new InvalidArgumentException("code reference '" + spec + "' is neither an existing file, a git commit (7 to 40 hex digits) nor a URL");
        }
        if (lineage != null && lineage.has("signature") && lineage.get("code") instanceof ObjectNode code) {
            return new ModelManifest.CodeRef(null, code.path("url").isTextual() ? code.get("url").asText() : null,
                    code.path("sha256").isTextual() ? code.get("sha256").asText() : null,
                    code.path("git_commit").isTextual() ? code.get("git_commit").asText() : null,
                    code.path("file").isTextual() ? code.get("file").asText() : null);
        }
        return null;
    }

    private FileEntry copyArtifact(Path source, String what, Path staging, Set<String> taken) throws IOException {
        return copyArtifact(source, source.getFileName() == null ? "" : source.getFileName().toString(), what, staging, taken);
    }

    /**
     * Copies a further file in under {@code storedAs}, a relative path. {@code taken} holds the
     * top-level names in use (and reserved: model, manifest, monitoring, data, code) plus every
     * nested path stored so far, so no two files and no file and a reserved folder can collide.
     */
    private FileEntry copyArtifact(Path source, String storedAs, String what, Path staging, Set<String> taken) throws IOException {
        List<String> segments = List.of(storedAs.split("/", -1));
        if (storedAs.isEmpty() || segments.stream().anyMatch(seg -> seg.isEmpty() || seg.startsWith(".") || seg.contains("\\"))) {
            throw new InvalidArgumentException(what + " " + source + ": hidden or unnamed files cannot be stored"
                    + (storedAs.isEmpty() ? "" : " (as '" + storedAs + "')"));
        }
        String top = segments.get(0);
        boolean clash = segments.size() == 1 ? !taken.add(storedAs)
                : (taken.contains(top) && !taken.contains(top + "/")) || !taken.add(storedAs);
        if (clash) {
            throw new InvalidArgumentException(what + " " + source + ": '" + storedAs
                    + "' is already part of this version or a name berth reserves (model.onnx, manifest.json, serving-layout.json, monitoring/, perf/, data/, code/);"
                    + " rename it or leave it out with --exclude");
        }
        if (segments.size() > 1) {
            // the first nested file claims its top folder name for artifacts: a later top-level file of that name would collide
            taken.add(top);
            taken.add(top + "/");
        }
        return copyIn(source, what, staging, storedAs);
    }

    /** Copies a caller's file into the staging folder, hashing it on the way and forcing it to disk. */
    private FileEntry copyIn(Path source, String what, Path staging, String relative) throws IOException {
        if (!Files.isRegularFile(source)) {
            throw new InvalidArgumentException(what + " " + source + (Files.exists(source) ? " is not a regular file" : " does not exist"));
        }
        if (!Files.isReadable(source)) {
            throw new InvalidArgumentException(what + " " + source + " is not readable");
        }
        Path target = staging.resolve(relative);
        Files.createDirectories(target.getParent());
        MessageDigest digest = sha256();
        long size = 0;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(source);
             FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                size += n;
            }
            out.force(true);
        }
        hook.reached(RegistryWriter.Step.FILE_COPIED, target);
        return new FileEntry(relative, size, HexFormat.of().formatHex(digest.digest()));
    }

    private static Map<String, Object> readObject(Path staged, Path original, String what, boolean yamlAllowed) {
        String lower = original.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = yamlAllowed && (lower.endsWith(".yaml") || lower.endsWith(".yml"));
        JsonNode node = yaml ? readYaml(staged, original, what) : readJson(staged, original, what);
        if (!node.isObject()) {
            throw new InvalidArgumentException(what + " " + original + " must hold a " + (yaml ? "YAML mapping" : "JSON object")
                    + ", found " + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = RegistryJson.mapper().convertValue(node, LinkedHashMap.class);
        return map;
    }

    private static JsonNode readJson(Path staged, Path original, String what) {
        try {
            JsonNode node = RegistryJson.mapper().readTree(staged.toFile());
            if (node == null || node.isMissingNode()) {
                throw new InvalidArgumentException(what + " " + original + " is empty; expected JSON");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new InvalidArgumentException(what + " " + original + " is not valid JSON: " + oneLine(e), e);
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read " + what + " " + original + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readYaml(Path staged, Path original, String what) {
        try {
            JsonNode node = YAML.readTree(staged.toFile());
            if (node == null || node.isMissingNode()) {
                throw new InvalidArgumentException(what + " " + original + " is empty; expected YAML");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new InvalidArgumentException(what + " " + original + " is not valid YAML: " + oneLine(e), e);
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read " + what + " " + original + ": " + e.getMessage(), e);
        }
    }

    private static String oneLine(JsonProcessingException e) {
        String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        msg = msg.replaceAll("\\s+", " ").trim();
        if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
            msg += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        }
        return msg;
    }

    private static List<String> requirementLines(Path staged, Path original) {
        try {
            return Files.readAllLines(staged, StandardCharsets.UTF_8).stream()
                    .map(l -> l.replaceFirst("(^|\\s)#.*$", "").trim())
                    .filter(l -> !l.isEmpty())
                    .toList();
        } catch (IOException e) {
            throw new InvalidArgumentException("requirements file " + original + " is not UTF-8 text: " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
