package dev.berth.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The write side of {@link LocalRegistry}. Every change follows one rule: build the new state aside
 * under a hidden name, take the registry lock, then make it visible with one atomic rename (a
 * version folder) or one atomic file replace ({@code model.json}); on any failure undo what was
 * made visible, so readers and later commands see the registry exactly as before.
 *
 * <p>Over 400 lines because every change of the registry's versions and aliases (register, import,
 * alias, delete) is here, on purpose: each follows the rule above with the same lock, staging and undo
 * helpers, and keeping them in one class keeps the rule in one place; staging a version's files is
 * {@link VersionStager}'s.
 */
final class RegistryWriter {
    static final String STAGING_PREFIX = ".staging-";
    static final String TRASH_PREFIX = ".deleting-";
    /** Highest version ever created, so a deleted version's number is not handed out again. */
    static final String LAST_VERSION_FILE = ".last-version";

    private static final Pattern NUMERIC = Pattern.compile("[0-9]{1,9}");

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

    @SuppressWarnings("try") // the lock is held for the block, not used in it
    ModelManifest register(Registration r, SignatureReader reader) {
        boolean rootExisted = Files.isDirectory(root);
        Path staging = root.resolve(STAGING_PREFIX + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            try (StagingOwner owner = StagingOwner.claim(staging)) {
                VersionStager.Staged staged = new VersionStager(hook).stage(r, reader, staging);
                hook.reached(Step.STAGED, staging);
                try (RegistryLock lock = RegistryLock.acquire(root)) {
                    hook.reached(Step.LOCKED, staging);
                    sweepAbandoned(staging);
                    return commit(r, staged, staging, owner);
                }
            }
        } catch (IOException e) {
            // e.g. "No space left on device" (a full disk) as the operating system says it, without Java's class name
            throw new RegistryException("registering '" + r.name() + "' failed: " + describe(e), e);
        } finally {
            deleteTreeQuietly(staging);
            if (!rootExisted) {
                deleteIfEmpty(root);
            }
        }
    }

    /** An I/O failure in words: the kind for file-system errors (whose message is only a path), else the message. */
    private static String describe(IOException e) {
        if (e.getMessage() == null) {
            return e.getClass().getSimpleName();
        }
        return e instanceof FileSystemException ? e.getClass().getSimpleName() + ": " + e.getMessage() : e.getMessage();
    }

    private ModelManifest commit(Registration r, VersionStager.Staged staged, Path staging, StagingOwner owner) throws IOException {
        String name = r.name();
        Path modelDir = root.resolve(name);
        ModelInfo info = registry.exists(name) ? registry.storedInfo(name) : ModelInfo.empty(name);
        int version = nextVersion(modelDir);
        ModelManifest manifest = staged.manifest(version);
        if (!r.allowDuplicate()) {
            // Under the lock, so two identical registrations racing each other make one version, not two.
            OptionalInt same = identicalVersion(name, manifest);
            if (same.isPresent()) {
                throw new DuplicateVersionException(name, same.getAsInt());
            }
        }
        AtomicFiles.write(staging.resolve(LocalRegistry.MANIFEST_FILE), RegistryJson.mapper().writeValueAsBytes(manifest));

        ModelInfo newInfo = info;
        if (newInfo.description().isEmpty() && !r.description().isEmpty()) {
            newInfo = newInfo.withDescription(r.description());
        }
        if (r.alias().isPresent()) {
            newInfo = newInfo.withAlias(r.alias().get(), AliasTarget.single(version));
        }
        // nextVersion() skipped every numeric name, so the version is also the new last one
        publish(staging, owner, name, version, version, newInfo.equals(info) ? null : newInfo);
        return manifest;
    }

    /**
     * Moves a staged version into place, then records it: the last-version file and, where
     * {@code newInfo} is not null, the model's information. Where recording fails, the version goes
     * back to staging and both files to what they held (the model folder too, where this made it), so
     * that a failed registration or import leaves the registry as it was. Runs under the registry lock.
     */
    private void publish(Path staging, StagingOwner owner, String name, int version, int lastVersion, ModelInfo newInfo)
            throws IOException {
        Path modelDir = root.resolve(name);
        boolean modelDirExisted = Files.isDirectory(modelDir);
        Path infoFile = modelDir.resolve(LocalRegistry.MODEL_INFO_FILE);
        Path lastFile = modelDir.resolve(LAST_VERSION_FILE);
        byte[] infoBefore = readIfExists(infoFile);
        byte[] lastBefore = readIfExists(lastFile);
        Files.createDirectories(modelDir);
        Path target = modelDir.resolve(Integer.toString(version));
        // No REPLACE_EXISTING: an existing target is a bug to stop at (register picks a free number, import checks it).
        owner.release();
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        try {
            hook.reached(Step.MOVED, target);
            AtomicFiles.write(lastFile, (lastVersion + "\n").getBytes(StandardCharsets.US_ASCII));
            if (newInfo != null) {
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
    }

    /** The lowest existing version whose stored files (paths and SHA-256) are exactly {@code manifest}'s. */
    private OptionalInt identicalVersion(String name, ModelManifest manifest) {
        if (!registry.exists(name)) {
            return OptionalInt.empty();
        }
        Set<String> content = contentKey(manifest);
        for (int v : registry.versions(name)) {
            Optional<ModelManifest> other;
            try {
                other = registry.storedManifest(name, v);
            } catch (RegistryException e) {
                continue; // an unreadable manifest is verify's business, not a reason to refuse a registration
            }
            if (other.isPresent() && contentKey(other.get()).equals(content)) {
                return OptionalInt.of(v);
            }
        }
        return OptionalInt.empty();
    }

    private static Set<String> contentKey(ModelManifest m) {
        Set<String> key = new HashSet<>();
        for (FileEntry f : m.storedFiles()) {
            key.add(f.path() + "\0" + f.sha256().toLowerCase(Locale.ROOT));
        }
        return key;
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
            if (dir.getFileName().toString().startsWith(TRASH_PREFIX) || StagingOwner.isAbandoned(dir)) {
                deleteTreeQuietly(dir);
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

    // ---------------------------------------------------------------- import

    @SuppressWarnings("try")
    LocalRegistry.ImportResult importVersion(byte[] manifestJson, LocalRegistry.FileFetcher fetcher, List<String> aliases) {
        ModelManifest manifest;
        try {
            manifest = RegistryJson.mapper().readValue(manifestJson, ModelManifest.class);
        } catch (IOException | RuntimeException e) {
            throw new InvalidArgumentException("not a berth version manifest: " + e.getMessage());
        }
        if (!ModelManifest.FORMAT.equals(manifest.format()) || manifest.version() < 1 || manifest.files().isEmpty()) {
            throw new InvalidArgumentException("not a berth version manifest (format " + manifest.format() + ", version "
                    + manifest.version() + ", " + manifest.files().size() + " model files)");
        }
        String name = ModelRef.requireValidName(manifest.name(), "model name");
        aliases.forEach(ModelRef::requireValidAlias);
        String label = name + ":" + manifest.version();
        try {
            if (sameVersionPresent(manifest, manifestJson)) {
                setAliases(name, manifest.version(), aliases);
                return new LocalRegistry.ImportResult(manifest, false);
            }
            boolean rootExisted = Files.isDirectory(root);
            Path staging = root.resolve(STAGING_PREFIX + UUID.randomUUID());
            try {
                Files.createDirectories(staging);
                try (StagingOwner owner = StagingOwner.claim(staging)) {
                    for (FileEntry f : manifest.storedFiles()) {
                        stageImported(staging, f, fetcher, label);
                    }
                    AtomicFiles.write(staging.resolve(LocalRegistry.MANIFEST_FILE), manifestJson);
                    try (RegistryLock lock = RegistryLock.acquire(root)) {
                        sweepAbandoned(staging);
                        if (sameVersionPresent(manifest, manifestJson)) { // another puller won the race
                            setAliasesLocked(name, manifest.version(), aliases);
                            return new LocalRegistry.ImportResult(manifest, false);
                        }
                        commitImport(manifest, staging, owner, aliases);
                        return new LocalRegistry.ImportResult(manifest, true);
                    }
                }
            } finally {
                deleteTreeQuietly(staging);
                if (!rootExisted) {
                    deleteIfEmpty(root);
                }
            }
        } catch (IOException e) {
            throw new RegistryException("importing " + label + " failed: " + e.getMessage(), e);
        }
    }

    /** True when the version is here with these manifest bytes; refuses one that holds something else. */
    private boolean sameVersionPresent(ModelManifest manifest, byte[] manifestJson) throws IOException {
        Path dir = root.resolve(manifest.name()).resolve(Integer.toString(manifest.version()));
        if (!Files.isDirectory(dir)) {
            return false;
        }
        byte[] local = readIfExists(dir.resolve(LocalRegistry.MANIFEST_FILE));
        if (local == null || !Arrays.equals(local, manifestJson)) {
            throw new InvalidArgumentException(manifest.name() + ":" + manifest.version() + " already exists in " + root
                    + " with other content (another version carries this number here); pull into another registry folder");
        }
        return true;
    }

    private static void stageImported(Path staging, FileEntry f, LocalRegistry.FileFetcher fetcher, String label) throws IOException {
        Path target = staging.resolve(f.path()).normalize();
        if (!target.startsWith(staging) || target.equals(staging) || f.path().startsWith(".")
                || f.path().equals(LocalRegistry.MANIFEST_FILE) || f.path().startsWith(LocalRegistry.MONITORING_DIR + "/")
                || f.path().startsWith(LocalRegistry.PERF_DIR + "/") || f.path().equals(LocalRegistry.LAYOUT_FILE)) {
            throw new InvalidArgumentException(label + ": refusing file path '" + f.path() + "'");
        }
        Files.createDirectories(target.getParent());
        fetcher.fetch(f, target);
        String actual = AtomicFiles.sha256(target);
        if (!actual.equalsIgnoreCase(f.sha256()) || (f.size() >= 0 && Files.size(target) != f.size())) {
            throw new RegistryException(label + ": " + f.path() + " has sha256 " + actual + ", the manifest says " + f.sha256()
                    + "; nothing was imported");
        }
    }

    private void commitImport(ModelManifest manifest, Path staging, StagingOwner owner, List<String> aliases) throws IOException {
        String name = manifest.name();
        int version = manifest.version();
        Path modelDir = root.resolve(name);
        int last = Math.max(version, nextVersion(modelDir) - 1);
        ModelInfo info = registry.exists(name) ? registry.storedInfo(name) : ModelInfo.empty(name);
        ModelInfo newInfo = info.description().isEmpty() && !manifest.description().isEmpty()
                ? info.withDescription(manifest.description()) : info;
        for (String alias : aliases) {
            newInfo = newInfo.withAlias(alias, AliasTarget.single(version));
        }
        // an imported model gets its information file even when nothing in it changed
        boolean writeInfo = !newInfo.equals(info) || !Files.exists(modelDir.resolve(LocalRegistry.MODEL_INFO_FILE));
        publish(staging, owner, name, version, last, writeInfo ? newInfo : null);
    }

    @SuppressWarnings("try")
    private void setAliases(String model, int version, List<String> aliases) throws IOException {
        if (aliases.isEmpty()) {
            return;
        }
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            setAliasesLocked(model, version, aliases);
        }
    }

    private void setAliasesLocked(String model, int version, List<String> aliases) throws IOException {
        ModelInfo info = registry.storedInfo(model);
        ModelInfo newInfo = info;
        for (String alias : aliases) {
            newInfo = newInfo.withAlias(alias, AliasTarget.single(version));
        }
        if (!newInfo.equals(info)) {
            writeInfo(newInfo);
        }
    }

    // ---------------------------------------------------------------- aliases

    @SuppressWarnings("try")
    void setAlias(String model, String alias, AliasTarget target) {
        ModelRef.requireValidAlias(alias);
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            for (WeightedVersion v : target.targets()) {
                registry.requireVersion(model, v.version());
            }
            writeInfo(registry.storedInfo(model).withAlias(alias, target));
        } catch (IOException e) {
            throw new RegistryException("setting alias '" + alias + "' of '" + model + "' failed: " + e, e);
        }
    }

    @SuppressWarnings("try")
    void deleteAlias(String model, String alias) {
        ModelRef.requireValidName(alias, "alias");
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            ModelInfo info = registry.storedInfo(model);
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
    @SuppressWarnings("try")
    List<String> deleteVersion(String model, int version, boolean force) {
        try (RegistryLock lock = RegistryLock.acquire(root)) {
            registry.requireVersion(model, version);
            ModelInfo info = registry.storedInfo(model);
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
            boolean lastOne = registry.versions(model).equals(List.of(version));
            // Disappear in one rename, so no reader sees half a version; then drop the aliases that pointed at it.
            Files.move(versionDir, trash, StandardCopyOption.ATOMIC_MOVE);
            try {
                AtomicFiles.write(lastFile, (last + "\n").getBytes(StandardCharsets.US_ASCII));
                if (lastOne) {
                    // No version left: the model goes too (no empty row in list). The folder keeps only
                    // .last-version, so a later registration under this name does not reuse a number.
                    Files.deleteIfExists(infoFile);
                    hook.reached(Step.MOVED, infoFile);
                } else if (!newInfo.equals(info)) {
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
            keepReports(trash.resolve(LocalRegistry.MONITORING_DIR), registry.retiredReportsDir(model, version));
            keepReports(trash.resolve(LocalRegistry.PERF_DIR), registry.retiredDir(model, version).resolve(LocalRegistry.PERF_DIR));
            deleteTreeQuietly(trash);
            return pointing;
        } catch (IOException e) {
            throw new RegistryException("deleting " + model + ":" + version + " failed: " + e, e);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Moves a deleted version's reports (monitoring/, perf/) to {@code retired/<version>/}: what was
     * measured stays readable ({@code berth report NAME:VERSION}) after the model file is gone. Best
     * effort: the version is already deleted, so a failure here loses the reports but not the delete.
     */
    private static void keepReports(Path from, Path to) {
        if (!Files.isDirectory(from)) {
            return;
        }
        try {
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : files.toList()) {
                    if (!f.getFileName().toString().startsWith(".")) {
                        AtomicFiles.move(f, to.resolve(f.getFileName().toString()));
                    }
                }
            }
        } catch (IOException e) {
            System.getLogger(RegistryWriter.class.getName()).log(System.Logger.Level.WARNING,
                    "the reports of the deleted version could not be kept in " + to + ": " + e);
        }
    }

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
        } else if (!Arrays.equals(before, readIfExists(file))) {
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

}
