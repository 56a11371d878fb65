package dev.berth.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A registry in a local folder: {@code <root>/<name>/<version>/model.onnx}, plus berth's
 * {@code manifest.json} per version and {@code model.json} per model (both optional, so a plain
 * Triton-style model repository is a valid registry). Reading is safe while other processes write:
 * versions appear by an atomic rename, and folders or files whose names start with '.' are work in
 * progress and never listed.
 *
 * <p>Over 400 lines because it is the registry's public facade: about forty short, documented
 * methods (folder layout, reads, and the writes {@link RegistryWriter} does), so that callers need
 * one type; the work itself lives in {@code RegistryWriter}, {@code RegistryFiles} and {@code ManifestDiff}.
 */
public final class LocalRegistry {
    /** The ONNX model in a version folder. */
    public static final String MODEL_FILE = "model.onnx";
    /** The version manifest in a version folder (absent in folders laid down without berth). */
    public static final String MANIFEST_FILE = "manifest.json";
    /** Aliases, description and serving defaults, in the model folder. */
    public static final String MODEL_INFO_FILE = "model.json";
    /** The folder in a version folder where serving writes monitoring reports. */
    public static final String MONITORING_DIR = "monitoring";
    /** The folder in a version folder where {@code berth perf} keeps its performance reports. */
    public static final String PERF_DIR = "perf";
    /** In a version folder: the sessions and threads a server measured for it ({@link ServingLayout}). */
    public static final String LAYOUT_FILE = "serving-layout.json";
    /** Under a model's folder: the monitoring reports of its deleted versions, {@code retired/<version>/monitoring/}. */
    public static final String RETIRED_DIR = "retired";
    /** Environment variable naming the registry folder when no --models is given. */
    public static final String MODELS_ENV = "BERTH_MODELS";

    private static final System.Logger LOG = System.getLogger(LocalRegistry.class.getName());
    /** Report folders already swept of abandoned temporary files by this instance. */
    private final Set<Path> cleanedReportDirs = ConcurrentHashMap.newKeySet();
    private final Path root;
    /** Where monitoring reports go: null for each version's own monitoring/ folder. */
    private final Path reportsRoot;
    /** Fault injection for tests of the write path; {@link RegistryWriter.Hook#NONE} otherwise. */
    private volatile RegistryWriter.Hook writeHook = RegistryWriter.Hook.NONE;

    private LocalRegistry(Path root, Path reportsRoot) {
        this.root = root.toAbsolutePath().normalize();
        this.reportsRoot = reportsRoot == null ? null : reportsRoot.toAbsolutePath().normalize();
    }

    /**
     * This registry with its monitoring reports kept under {@code reportsRoot/<name>/<version>/}
     * instead of each version's {@code monitoring/} folder: for a server whose registry is read-only
     * (a container image), the reports go to a writable volume.
     */
    public LocalRegistry withReportsDir(Path reportsRoot) {
        return new LocalRegistry(root, Objects.requireNonNull(reportsRoot, "reportsRoot"));
    }

    private Path reportsDir(String model, int version) {
        if (reportsRoot != null) {
            return reportsRoot.resolve(ModelRef.requireValidName(model, "model name")).resolve(Integer.toString(version));
        }
        return versions(model).contains(version) ? versionDir(model, version).resolve(MONITORING_DIR) : retiredReportsDir(model, version);
    }

    /** Where the reports of a deleted version are kept (and where a server's last window for it lands). */
    Path retiredReportsDir(String model, int version) {
        return retiredDir(model, version).resolve(MONITORING_DIR);
    }

    /** {@code <name>/retired/<version>/}: what a deleted version leaves (its monitoring and perf reports). */
    Path retiredDir(String model, int version) {
        return modelDir(model).resolve(RETIRED_DIR).resolve(Integer.toString(version));
    }

    /** Whether {@code version} of {@code model} was deleted and left monitoring reports behind. */
    public boolean hasRetiredReports(String model, int version) {
        Path dir = retiredReportsDir(model, version);
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".json"));
        } catch (IOException e) {
            return false;
        }
    }

    void writeHook(RegistryWriter.Hook hook) {
        this.writeHook = hook;
    }

    /** Opens the registry at {@code root}; the folder need not exist yet (it is created on first write). */
    public static LocalRegistry open(Path root) {
        return new LocalRegistry(root, null);
    }

    /** The registry folder from {@code --models}, else {@code BERTH_MODELS}, else {@code ./models}. */
    public static Path defaultRoot(Path fromOption) {
        if (fromOption != null) {
            return fromOption;
        }
        String env = System.getenv(MODELS_ENV);
        return Path.of(env != null && !env.isBlank() ? env : "models");
    }

    /** The registry folder. */
    public Path root() {
        return root;
    }

    /** Model names, sorted. */
    public List<String> models() {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.map(p -> p.getFileName().toString())
                    .filter(this::exists)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    /** Whether {@code model} is a valid name with a model.json or at least one complete version. */
    public boolean exists(String model) {
        return ModelRef.isValidName(model) && Files.isDirectory(root.resolve(model))
                && (Files.exists(root.resolve(model).resolve(MODEL_INFO_FILE)) || !versions(model).isEmpty());
    }

    /** Complete versions of a model, ascending; empty when the model does not exist. */
    public List<Integer> versions(String model) {
        ModelRef.requireValidName(model, "model name");
        Path dir = root.resolve(model);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Integer> versions = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            children.forEach(child -> {
                String name = child.getFileName().toString();
                if (name.matches("[1-9][0-9]{0,8}") && Files.isDirectory(child)
                        && (Files.exists(child.resolve(MODEL_FILE)) || Files.exists(child.resolve(MANIFEST_FILE)))) {
                    versions.add(Integer.parseInt(name));
                }
            });
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        versions.sort(null);
        return List.copyOf(versions);
    }

    /** "no model 'chrun' in models; did you mean 'churn'?": the nearest existing names, when one is close. */
    private ModelNotFoundException noSuchModel(String model) {
        List<String> near = Suggestions.near(model, models());
        return new ModelNotFoundException("no model '" + model + "' in " + root
                + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near.stream().map(n -> "'" + n + "'").toList()) + "?"));
    }

    /** The model's folder, whether or not it exists; throws {@link InvalidArgumentException} for an invalid name. */
    public Path modelDir(String model) {
        return root.resolve(ModelRef.requireValidName(model, "model name"));
    }

    /** A version's folder, whether or not it exists. */
    public Path versionDir(String model, int version) {
        return modelDir(model).resolve(Integer.toString(version));
    }

    /** Throws {@link ModelNotFoundException} unless the version exists. */
    public void requireVersion(String model, int version) {
        if (!exists(model)) {
            throw noSuchModel(model);
        }
        if (!versions(model).contains(version)) {
            throw new ModelNotFoundException("model '" + model + "' has no version " + version + " (versions: " + versions(model) + ")");
        }
    }

    /** The manifest berth wrote for a version; empty for a version laid down without berth. */
    public Optional<ModelManifest> storedManifest(String model, int version) {
        requireVersion(model, version);
        Path file = versionDir(model, version).resolve(MANIFEST_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(RegistryFiles.read(file, ModelManifest.class));
    }

    /** The model file the runtime loads for a version. */
    public Path modelFile(String model, int version) {
        return storedManifest(model, version)
                .map(m -> versionDir(model, version).resolve(m.modelFile().path()))
                .orElse(versionDir(model, version).resolve(MODEL_FILE));
    }

    /**
     * Per-model information: {@code model.json} ({@link ModelInfo#empty(String)} where there is none),
     * with what a Triton {@code config.pbtxt} beside the versions states laid over it (see
     * {@link TritonConfig}: its version policy and batching, instance and tensor settings win;
     * threads, optimisation level and warm-up come from {@code model.json}). Warnings about
     * {@code config.pbtxt} fields berth does not act on are the caller's to show
     * ({@link #tritonConfig(String)}); {@code berth serve} prints them once at start.
     *
     * @throws InvalidArgumentException when {@code model.json} or {@code config.pbtxt} is malformed
     *                                  or holds a wrong value (the message names the file and key)
     */
    public ModelInfo info(String model) {
        ModelInfo stored = storedInfo(model);
        Optional<TritonConfig> triton = tritonConfig(model);
        if (triton.isEmpty()) {
            return stored;
        }
        TritonConfig t = triton.get();
        ServingConfig base = stored.serving() != null ? stored.serving() : ServingConfig.defaults();
        return new ModelInfo(model, stored.description(), stored.aliases(), t.versionPolicy(), t.servingOver(base));
    }

    /** A model's {@code config.pbtxt}, read and checked; empty when the model has none. */
    public Optional<TritonConfig> tritonConfig(String model) {
        Path file = modelDir(model).resolve(TritonConfig.FILE);
        return Files.isRegularFile(file) ? Optional.of(TritonConfig.read(file, model)) : Optional.empty();
    }

    /** {@code model.json} alone, as berth writes it back (never with {@code config.pbtxt}'s settings folded in). */
    ModelInfo storedInfo(String model) {
        if (!exists(model)) {
            throw noSuchModel(model);
        }
        Path file = modelDir(model).resolve(MODEL_INFO_FILE);
        if (!Files.exists(file)) {
            return ModelInfo.empty(model);
        }
        ModelInfo info = RegistryFiles.read(file, ModelInfo.class);
        return new ModelInfo(model, info.description(), info.aliases(), info.versionPolicy(), info.serving());
    }

    /**
     * The version a reference means: the version itself, the alias's main version, or for a bare
     * name the {@code production} alias where set, else the highest version.
     */
    public int resolve(ModelRef ref) {
        List<Integer> versions = versions(ref.name());
        if (!exists(ref.name())) {
            throw noSuchModel(ref.name());
        }
        if (ref.version().isPresent()) {
            requireVersion(ref.name(), ref.version().getAsInt());
            return ref.version().getAsInt();
        }
        ModelInfo info = info(ref.name());
        if (ref.alias().isPresent()) {
            String alias = ref.alias().get();
            AliasTarget target = info.alias(alias).orElseThrow(() ->
                    new ModelNotFoundException("model '" + ref.name() + "' has no alias '" + alias + "' (aliases: " + info.aliases().keySet() + ")"));
            return target.primaryVersion();
        }
        Optional<AliasTarget> production = info.alias(ModelInfo.PRODUCTION);
        if (production.isPresent()) {
            return production.get().primaryVersion();
        }
        if (versions.isEmpty()) {
            throw new ModelNotFoundException("model '" + ref.name() + "' has no versions");
        }
        return versions.get(versions.size() - 1);
    }

    /** Aliases of a model, by name. */
    public Map<String, AliasTarget> aliases(String model) {
        return info(model).aliases();
    }

    /**
     * Stores a monitoring report in {@code <name>/<version>/monitoring/<fileName>} (or the folder
     * {@link #withReportsDir} gave) atomically.
     * Reports are the only files the registry lets a running server add to a version.
     */
    public Path writeMonitoringReport(String model, int version, String fileName, byte[] content) throws IOException {
        // a version deleted while it was served still gets its last window: into retired/<version>/
        if (!versions(model).contains(version) && !Files.isDirectory(modelDir(model))) {
            requireVersion(model, version);
        }
        if (!fileName.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new InvalidArgumentException("invalid report file name '" + fileName + "'");
        }
        Path dir = reportsDir(model, version);
        if (cleanedReportDirs.add(dir)) {
            // once per folder and process: what an earlier, killed server left half-written
            int removed = AtomicFiles.removeAbandoned(dir);
            if (removed > 0) {
                LOG.log(System.Logger.Level.INFO, "removed " + removed + " unfinished report file(s) a stopped process left in " + dir);
            }
        }
        Path target = dir.resolve(fileName);
        AtomicFiles.write(target, content);
        return target;
    }

    /** Report files of a version, oldest first by name. */
    public List<Path> monitoringReports(String model, int version) {
        Path dir = reportsDir(model, version);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stores a performance report ({@code berth perf}: the JSON and its chart) in
     * {@code <name>/<version>/perf/<fileName>} atomically. Like monitoring reports, these are files
     * added beside a version after it was registered; they are not part of its manifest.
     */
    public Path writePerfReport(String model, int version, String fileName, byte[] content) throws IOException {
        requireVersion(model, version);
        if (!fileName.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new InvalidArgumentException("invalid perf report file name '" + fileName + "'");
        }
        Path target = versionDir(model, version).resolve(PERF_DIR).resolve(fileName);
        AtomicFiles.write(target, content);
        return target;
    }

    /** Performance report files of a version (JSON and PNG), oldest first by name (names are UTC times). */
    public List<Path> perfReports(String model, int version) {
        // a deleted version's perf reports are kept beside its monitoring reports in retired/<version>/
        Path dir = (versions(model).contains(version) ? versionDir(model, version) : retiredDir(model, version)).resolve(PERF_DIR);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The layout a server measured for this version and wrote down, if any. A file that cannot be
     * read (a newer format, a broken edit) is treated as absent: the server measures again and
     * overwrites it.
     */
    public Optional<ServingLayout> servingLayout(String model, int version) {
        Path file = versionDir(model, version).resolve(LAYOUT_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            ServingLayout layout = RegistryJson.mapper().readValue(file.toFile(), ServingLayout.class);
            return ServingLayout.FORMAT.equals(layout.format()) ? Optional.of(layout) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, file + " is not a serving layout this berth reads (" + e.getMessage()
                    + "); it will be measured again");
            return Optional.empty();
        }
    }

    /**
     * Writes the layout a server measured beside the version, atomically. Like monitoring reports,
     * a file added after registration: not in the manifest, not re-hashed by verify, not pushed.
     */
    public Path writeServingLayout(String model, int version, ServingLayout layout) throws IOException {
        requireVersion(model, version);
        Path target = versionDir(model, version).resolve(LAYOUT_FILE);
        AtomicFiles.write(target, RegistryJson.mapper().writeValueAsBytes(layout));
        return target;
    }

    // ------------------------------------------------------------------ write side

    /**
     * Registers a new version: copies the model and every artifact into a hidden staging folder
     * inside the registry, hashes them, reads the signature from the staged model through
     * {@code reader}, then under the registry's exclusive lock picks the next version number,
     * renames the folder into place atomically and updates {@code model.json}. Safe to call from
     * several processes at once; each gets its own version. On any failure nothing is left behind.
     *
     * @return the manifest of the new version (its {@link ModelManifest#version()} is the new number)
     * @throws InvalidArgumentException for a bad name, alias, missing or malformed input file
     * @throws InvalidModelException    when {@code reader} cannot load the model file
     * @throws RegistryException        when the registry cannot be written
     */
    public ModelManifest register(Registration registration, SignatureReader reader) {
        Objects.requireNonNull(registration, "registration");
        Objects.requireNonNull(reader, "reader");
        return new RegistryWriter(this, writeHook).register(registration, reader);
    }

    /**
     * Points {@code alias} at one version or a weighted split; every version must exist.
     *
     * @throws ModelNotFoundException when the model or a version does not exist
     */
    public void setAlias(String model, String alias, AliasTarget target) {
        new RegistryWriter(this, writeHook).setAlias(model, alias, target);
    }

    /** Removes an alias; {@link ModelNotFoundException} when the model has no such alias. */
    public void deleteAlias(String model, String alias) {
        new RegistryWriter(this, writeHook).deleteAlias(model, alias);
    }

    /**
     * Deletes a version. Refused with {@link VersionInUseException} while an alias points at it,
     * unless {@code force}, which also takes the version out of those aliases (an alias left with
     * no version is removed). Version numbers are not reused afterwards.
     *
     * @return the aliases that were changed or removed
     */
    public List<String> deleteVersion(String model, int version, boolean force) {
        return new RegistryWriter(this, writeHook).deleteVersion(model, version, force);
    }

    /**
     * Brings in a version made elsewhere (an OCI registry) under its own number: every file of
     * {@code manifestJson} is fetched into a staging folder and hashed against the manifest, then
     * the folder is renamed into place under the registry lock, as {@link #register} does, and
     * {@code aliases} are set. A version already here with the same manifest and files changes
     * nothing (aliases aside); one with other content is refused.
     *
     * @param manifestJson the version's {@code manifest.json}, stored byte for byte
     * @param fetcher      writes one listed file's bytes to a path
     * @param aliases      aliases to point at this version (may be empty)
     * @throws InvalidArgumentException for a manifest that is not a berth version or names a path outside the version
     * @throws RegistryException        when a fetched file does not match its hash or the registry cannot be written
     */
    public ImportResult importVersion(byte[] manifestJson, FileFetcher fetcher, Collection<String> aliases) {
        Objects.requireNonNull(fetcher, "fetcher");
        return new RegistryWriter(this, writeHook).importVersion(manifestJson, fetcher, List.copyOf(aliases));
    }

    /** Writes one file of a version being imported; see {@link #importVersion}. */
    @FunctionalInterface
    public interface FileFetcher {
        /** Writes the bytes of {@code entry} to {@code target} (a new file in a staging folder). */
        void fetch(FileEntry entry, Path target) throws IOException;
    }

    /**
     * What {@link #importVersion} did.
     *
     * @param manifest the version's manifest
     * @param imported false when the same version was already here
     */
    public record ImportResult(ModelManifest manifest, boolean imported) {
    }

    /** Re-hashes every file of every version of every model. */
    public VerifyReport verify() {
        return verify((SignatureReader) null);
    }

    /**
     * Re-hashes every file of every version of every model; {@code modelReader} (null: none) also reads
     * the model file of each version that has no manifest, which has no hash to be checked against.
     */
    public VerifyReport verify(SignatureReader modelReader) {
        Verifier v = new Verifier(this, modelReader);
        for (String model : models()) {
            versions(model).forEach(version -> v.verify(model, version));
        }
        return v.report();
    }

    /** Re-hashes every file of every version of one model. */
    public VerifyReport verify(String model) {
        return verify(model, (SignatureReader) null);
    }

    /** {@link #verify(String)}, reading manifest-less model files with {@code modelReader} (null: none). */
    public VerifyReport verify(String model, SignatureReader modelReader) {
        if (!exists(model)) {
            throw noSuchModel(model);
        }
        Verifier v = new Verifier(this, modelReader);
        versions(model).forEach(version -> v.verify(model, version));
        return v.report();
    }

    /** Re-hashes every file of one version. */
    public VerifyReport verify(String model, int version) {
        return verify(model, version, null);
    }

    /** {@link #verify(String, int)}, reading a manifest-less model file with {@code modelReader} (null: none). */
    public VerifyReport verify(String model, int version, SignatureReader modelReader) {
        requireVersion(model, version);
        Verifier v = new Verifier(this, modelReader);
        v.verify(model, version);
        return v.report();
    }

    /**
     * The manifest of a version: the stored one, or for a version laid down without berth one
     * described on the spot (model file hash and size, signature through {@code reader}, the file's
     * modification time as creation time).
     */
    public ModelManifest manifest(String model, int version, SignatureReader reader) {
        Optional<ModelManifest> stored = storedManifest(model, version);
        if (stored.isPresent()) {
            return stored.get();
        }
        Path file = versionDir(model, version).resolve(MODEL_FILE);
        try {
            FileEntry entry = new FileEntry(MODEL_FILE, Files.size(file), AtomicFiles.sha256(file));
            Instant created = Files.getLastModifiedTime(file).toInstant().truncatedTo(ChronoUnit.SECONDS);
            return new ModelManifest(ModelManifest.FORMAT, model, version, created, "", "", Map.of(), List.of(entry),
                    reader.read(file), Map.of(), Map.of(), null, null, List.of(), null);
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
