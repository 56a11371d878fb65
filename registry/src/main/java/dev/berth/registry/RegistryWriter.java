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
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
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
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The write side of {@link LocalRegistry}. Every change follows one rule: build the new state aside
 * under a hidden name, take the registry lock, then make it visible with one atomic rename (a
 * version folder) or one atomic file replace ({@code model.json}); on any failure undo what was
 * made visible, so readers and later commands see the registry exactly as before.
 */
final class RegistryWriter {
    static final String STAGING_PREFIX = ".staging-";
    static final String TRASH_PREFIX = ".deleting-";
    /** Highest version ever created, so a deleted version's number is not handed out again. */
    static final String LAST_VERSION_FILE = ".last-version";
    static final String DATA_DIR = "data";
    static final String CODE_DIR = "code";

    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.+");
    private static final Pattern GIT_COMMIT = Pattern.compile("[0-9a-f]{7,40}");
    private static final Pattern NUMERIC = Pattern.compile("[0-9]{1,9}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Test seam: called at each step of a registration; a hook that throws simulates a crash-free failure there. */
    interface Hook {
        Hook NONE = (step, path) -> { };

        void reached(Step step, Path path) throws IOException;
    }

    enum Step { FILE_COPIED, STAGED, LOCKED, MOVED }

    private final LocalRegistry registry;
    private final Path root;
    private final Hook hook;

    RegistryWriter(LocalRegistry registry, Hook hook) {
        this.registry = registry;
        this.root = registry.root();
        this.hook = hook;
    }

    // ---------------------------------------------------------------- register

    ModelManifest register(Registration r, SignatureReader reader) {
        boolean rootExisted = Files.isDirectory(root);
        Path staging = root.resolve(STAGING_PREFIX + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            try (Owner owner = Owner.claim(staging)) {
                Staged staged = stage(r, reader, staging);
                hook.reached(Step.STAGED, staging);
                try (RegistryLock lock = RegistryLock.acquire(root)) {
                    hook.reached(Step.LOCKED, staging);
                    sweepAbandoned(staging);
                    return commit(r, staged, staging, owner);
                }
            }
        } catch (IOException e) {
            throw new RegistryException("registering '" + r.name() + "' failed: " + e, e);
        } finally {
            deleteTreeQuietly(staging);
            if (!rootExisted) {
                deleteIfEmpty(root);
            }
        }
    }

    private ModelManifest commit(Registration r, Staged staged, Path staging, Owner owner) throws IOException {
        String name = r.name();
        Path modelDir = root.resolve(name);
        boolean modelDirExisted = Files.isDirectory(modelDir);
        Path infoFile = modelDir.resolve(LocalRegistry.MODEL_INFO_FILE);
        Path lastFile = modelDir.resolve(LAST_VERSION_FILE);
        byte[] infoBefore = readIfExists(infoFile);
        byte[] lastBefore = readIfExists(lastFile);

        ModelInfo info = registry.exists(name) ? registry.info(name) : ModelInfo.empty(name);
        int version = nextVersion(modelDir);
        ModelManifest manifest = staged.manifest(version);
        AtomicFiles.write(staging.resolve(LocalRegistry.MANIFEST_FILE), RegistryJson.mapper().writeValueAsBytes(manifest));

        ModelInfo newInfo = info;
        if (newInfo.description().isEmpty() && !r.description().isEmpty()) {
            newInfo = newInfo.withDescription(r.description());
        }
        if (r.alias().isPresent()) {
            newInfo = newInfo.withAlias(r.alias().get(), AliasTarget.single(version));
        }

        Files.createDirectories(modelDir);
        Path target = modelDir.resolve(Integer.toString(version));
        // No REPLACE_EXISTING: nextVersion() skipped every numeric name, so an existing target is a bug to stop at.
        owner.release();
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        try {
            hook.reached(Step.MOVED, target);
            AtomicFiles.write(lastFile, (version + "\n").getBytes(StandardCharsets.US_ASCII));
            if (!newInfo.equals(info)) {
                writeInfo(newInfo);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.move(target, staging, StandardCopyOption.ATOMIC_MOVE);
                restore(infoFile, infoBefore);
                restore(lastFile, lastBefore);
                if (!modelDirExisted) {
                    deleteIfEmpty(modelDir);
                }
            } catch (IOException | RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        return manifest;
    }

    /**
     * Removes what writers that died left behind: staging folders whose owner no longer holds its
     * lock, and trash folders (deletes finish under the registry lock, so any seen now is orphaned).
     * Runs under the registry lock.
     */
    private void sweepAbandoned(Path own) throws IOException {
        List<Path> hidden;
        try (Stream<Path> entries = Files.list(root)) {
            hidden = entries.filter(p -> !p.equals(own)).filter(Files::isDirectory)
                    .filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX)
                            || p.getFileName().toString().startsWith(TRASH_PREFIX))
                    .toList();
        }
        for (Path dir : hidden) {
            if (dir.getFileName().toString().startsWith(TRASH_PREFIX) || Owner.isAbandoned(dir)) {
                deleteTreeQuietly(dir);
            }
        }
    }

    /**
     * Marks a staging folder as in use: an OS lock on {@code .owner} inside it, held while the
     * folder is filled, so a later writer can tell a live registration from one whose process died.
     */
    private static final class Owner implements AutoCloseable {
        static final String FILE = ".owner";
        /** A staging folder without an owner file yet is given this long before it counts as abandoned. */
        static final java.time.Duration GRACE = java.time.Duration.ofMinutes(10);

        private final Path file;
        private FileChannel channel;

        private Owner(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        static Owner claim(Path staging) throws IOException {
            Path file = staging.resolve(FILE);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                channel.lock();
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            return new Owner(file, channel);
        }

        static boolean isAbandoned(Path staging) {
            Path file = staging.resolve(FILE);
            try {
                if (!Files.exists(file)) {
                    Instant modified = Files.getLastModifiedTime(staging).toInstant();
                    return modified.plus(GRACE).isBefore(Instant.now());
                }
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    java.nio.channels.FileLock lock = ch.tryLock();
                    if (lock == null) {
                        return false;
                    }
                    lock.release();
                    return true;
                }
            } catch (java.nio.channels.OverlappingFileLockException e) {
                return false; // held by a registration in this very process
            } catch (IOException e) {
                return false; // gone meanwhile, or unreadable: not ours to judge
            }
        }

        /** Drops the lock and the marker so the folder can become a version without it. */
        void release() throws IOException {
            if (channel != null) {
                channel.close();
                channel = null;
            }
            Files.deleteIfExists(file);
        }

        @Override
        public void close() throws IOException {
            if (channel != null) {
                channel.close();
                channel = null;
            }
        }
    }

    /** One past the highest version ever used: numeric folders (whole or not) and the recorded last version. */
    private static int nextVersion(Path modelDir) throws IOException {
        int max = 0;
        if (Files.isDirectory(modelDir)) {
            try (Stream<Path> children = Files.list(modelDir)) {
                for (Path child : (Iterable<Path>) children::iterator) {
                    String n = child.getFileName().toString();
                    if (NUMERIC.matcher(n).matches()) {
                        max = Math.max(max, Integer.parseInt(n));
                    }
                }
            }
            byte[] last = readIfExists(modelDir.resolve(LAST_VERSION_FILE));
            if (last != null) {
                String text = new String(last, StandardCharsets.US_ASCII).trim();
                if (NUMERIC.matcher(text).matches()) {
                    max = Math.max(max, Integer.parseInt(text));
                }
            }
        }
        return max + 1;
    }

    /** Everything staged for a version except its number and time, which are fixed under the lock. */
    private record Staged(Registration r, FileEntry model, Signature signature, Map<String, Object> metrics,
                          Map<String, Object> params, ModelManifest.Dependencies dependencies,
                          ModelManifest.Lineage lineage, List<FileEntry> artifacts) {
        ModelManifest manifest(int version) {
            return new ModelManifest(ModelManifest.FORMAT, r.name(), version, Instant.now().truncatedTo(ChronoUnit.SECONDS),
                    r.author(), r.description(), r.tags(), List.of(model), signature, metrics, params, dependencies,
                    lineage, artifacts, r.serving().orElse(null));
        }
    }

    private Staged stage(Registration r, SignatureReader reader, Path staging) throws IOException {
        Set<String> taken = new HashSet<>(Set.of(LocalRegistry.MODEL_FILE, LocalRegistry.MANIFEST_FILE,
                LocalRegistry.MONITORING_DIR, DATA_DIR, CODE_DIR));
        List<FileEntry> artifacts = new ArrayList<>();

        FileEntry model = copyIn(r.modelFile(), "model file", staging, LocalRegistry.MODEL_FILE);
        // Read the signature from the staged copy: the hash recorded and the graph inspected are the same bytes.
        Signature signature = reader.read(staging.resolve(LocalRegistry.MODEL_FILE));

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
        for (Path artifact : r.artifacts()) {
            artifacts.add(copyArtifact(artifact, "artifact", staging, taken));
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
        String fileName = source.getFileName() == null ? "" : source.getFileName().toString();
        if (fileName.isEmpty() || fileName.startsWith(".")) {
            throw new InvalidArgumentException(what + " " + source + ": hidden or unnamed files cannot be stored");
        }
        if (!taken.add(fileName)) {
            throw new InvalidArgumentException(what + " " + source + ": a file named '" + fileName
                    + "' is already part of this version (or the name is reserved)");
        }
        return copyIn(source, what, staging, fileName);
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
        hook.reached(Step.FILE_COPIED, target);
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

    // ---------------------------------------------------------------- aliases

    void setAlias(String model, String alias, AliasTarget target) {
        ModelRef.requireValidName(alias, "alias");
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            for (WeightedVersion v : target.targets()) {
                registry.requireVersion(model, v.version());
            }
            writeInfo(registry.info(model).withAlias(alias, target));
        } catch (IOException e) {
            throw new RegistryException("setting alias '" + alias + "' of '" + model + "' failed: " + e, e);
        }
    }

    void deleteAlias(String model, String alias) {
        ModelRef.requireValidName(alias, "alias");
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            ModelInfo info = registry.info(model);
            if (info.alias(alias).isEmpty()) {
                throw new ModelNotFoundException("model '" + model + "' has no alias '" + alias + "' (aliases: " + info.aliases().keySet() + ")");
            }
            writeInfo(info.withoutAlias(alias));
        } catch (IOException e) {
            throw new RegistryException("deleting alias '" + alias + "' of '" + model + "' failed: " + e, e);
        }
    }

    // ---------------------------------------------------------------- delete

    /** Returns the aliases that were changed (only non-empty with {@code force}). */
    List<String> deleteVersion(String model, int version, boolean force) {
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            registry.requireVersion(model, version);
            ModelInfo info = registry.info(model);
            List<String> pointing = info.aliases().entrySet().stream()
                    .filter(e -> e.getValue().references(version)).map(Map.Entry::getKey).toList();
            if (!pointing.isEmpty() && !force) {
                throw new VersionInUseException("version " + version + " of '" + model + "' is the target of alias "
                        + String.join(", ", pointing) + "; move the alias first or delete with --force");
            }
            ModelInfo newInfo = info;
            for (String alias : pointing) {
                List<WeightedVersion> rest = info.aliases().get(alias).targets().stream()
                        .filter(t -> t.version() != version).toList();
                newInfo = rest.isEmpty() ? newInfo.withoutAlias(alias) : newInfo.withAlias(alias, new AliasTarget(rest));
            }
            Path modelDir = registry.modelDir(model);
            Path infoFile = modelDir.resolve(LocalRegistry.MODEL_INFO_FILE);
            Path lastFile = modelDir.resolve(LAST_VERSION_FILE);
            byte[] infoBefore = readIfExists(infoFile);
            byte[] lastBefore = readIfExists(lastFile);
            Path versionDir = registry.versionDir(model, version);
            Path trash = root.resolve(TRASH_PREFIX + model + "-" + version + "-" + UUID.randomUUID());
            int last = Math.max(version, nextVersion(modelDir) - 1);
            // Disappear in one rename, so no reader sees half a version; then drop the aliases that pointed at it.
            Files.move(versionDir, trash, StandardCopyOption.ATOMIC_MOVE);
            try {
                AtomicFiles.write(lastFile, (last + "\n").getBytes(StandardCharsets.US_ASCII));
                if (!newInfo.equals(info)) {
                    writeInfo(newInfo);
                }
            } catch (IOException | RuntimeException e) {
                try {
                    Files.move(trash, versionDir, StandardCopyOption.ATOMIC_MOVE);
                    restore(infoFile, infoBefore);
                    restore(lastFile, lastBefore);
                } catch (IOException | RuntimeException undo) {
                    e.addSuppressed(undo);
                }
                throw e;
            }
            deleteTreeQuietly(trash);
            return pointing;
        } catch (IOException e) {
            throw new RegistryException("deleting " + model + ":" + version + " failed: " + e, e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private void writeInfo(ModelInfo info) throws IOException {
        AtomicFiles.write(registry.modelDir(info.name()).resolve(LocalRegistry.MODEL_INFO_FILE),
                RegistryJson.mapper().writeValueAsBytes(info));
    }

    private static byte[] readIfExists(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static void restore(Path file, byte[] before) throws IOException {
        if (before == null) {
            Files.deleteIfExists(file);
        } else if (!java.util.Arrays.equals(before, readIfExists(file))) {
            AtomicFiles.write(file, before);
        }
    }

    private static void deleteIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            // someone else's files are there now: leave it
        } catch (IOException e) {
            // best effort: an empty folder left behind is harmless
        }
    }

    static void deleteTreeQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Hidden leftovers are ignored by readers; nothing more to do here.
            System.getLogger(RegistryWriter.class.getName()).log(System.Logger.Level.WARNING,
                    "could not remove " + dir + ": " + e);
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
