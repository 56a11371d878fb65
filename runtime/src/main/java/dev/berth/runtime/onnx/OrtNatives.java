package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import dev.berth.registry.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Where ONNX Runtime's native libraries come from: one folder per installation, not a new temp
 * folder per process.
 *
 * <p>Left to itself, ONNX Runtime's Java library copies its two native libraries (tens of
 * megabytes) out of its jar into a new {@code onnxruntime-java*} folder in {@code java.io.tmpdir}
 * every time a JVM starts, and deletes it only when the JVM exits normally, so every killed
 * process leaves one behind. It skips the copy when the system property {@value #NATIVE_PATH}
 * names a folder holding the libraries. {@link #environment()} makes sure, before ONNX Runtime's
 * first use, that the property names such a folder:
 *
 * <ol>
 *   <li>The property is set and the folder holds the libraries (the image, an installer): used as it
 *       is. A folder holding one sub-folder per platform ({@code linux-x64/}, {@code linux-aarch64/},
 *       as images built by berth do) is resolved to this platform's.</li>
 *   <li>The property is set to a folder that does not exist yet or is empty (the {@code berth}
 *       launcher's cache folder on its first run): the libraries are extracted there.</li>
 *   <li>The property is unset (a plain {@code java -cp ... BerthMain}, an embedded server):
 *       {@code native/<platform>/} beside the folder of ONNX Runtime's jar where an installation
 *       ships one, else the cache folder {@code $XDG_CACHE_HOME/berth/onnxruntime-<version>-<platform>}
 *       ({@code ~/.cache} without XDG_CACHE_HOME), else, where the home folder is not writable,
 *       {@code <java.io.tmpdir>/berth-<user>/onnxruntime-<version>-<platform>}. The property is set
 *       to the folder chosen.</li>
 * </ol>
 *
 * <p>Extraction is atomic and safe when several JVMs race: each writes a staging folder beside the
 * target (libraries, then a {@value #MARKER} file with their sizes and SHA-256), forces it to disk
 * and renames it into place; a rename that loses the race finds the winner's folder and uses it.
 * A folder with a {@value #MARKER} is checked at every start (each library's size against the marker
 * and the jar: hashing the libraries at every start would slow every start down) and
 * replaced when it does not match, so a truncated cache, or one another build of the same version
 * wrote, heals itself. The marker's SHA-256 lets an operator check a copy by hand.
 * Where nothing works, ONNX Runtime is left to do what it does by default, with a warning.
 *
 * <p>ONNX Runtime also creates an empty {@code onnxruntime-java*} temp folder when the property is
 * set (and would delete it only at a normal exit); {@link #environment()} removes it right after the
 * libraries are loaded, so a process killed later leaves nothing in the temp folder.
 *
 * <p>Why over 400 lines: the three ways of finding the libraries, the atomic extraction and the
 * marker check share one folder layout and one race discipline, easier to check side by side.
 */
public final class OrtNatives {
    /** ONNX Runtime's system property: the folder holding its native libraries. */
    public static final String NATIVE_PATH = "onnxruntime.native.path";
    /** The file berth writes into a folder it extracted: the libraries' sizes and SHA-256. */
    static final String MARKER = ".berth-natives";
    private static final System.Logger LOG = System.getLogger(OrtNatives.class.getName());
    private static final String RESOURCES = "/ai/onnxruntime/native/";

    private static boolean prepared;
    private static volatile OrtEnvironment environment;

    private OrtNatives() {
    }

    /**
     * ONNX Runtime's environment, its natives loaded from the installation's folder (see the class
     * comment). Every use of ONNX Runtime in berth goes through here.
     */
    public static OrtEnvironment environment() {
        OrtEnvironment env = environment;
        if (env != null) {
            return env;
        }
        synchronized (OrtNatives.class) {
            if (environment == null) {
                prepare();
                // FATAL only: every failed run is already an exception that berth answers and counts;
                // ONNX Runtime's default (WARNING) also writes each one to stderr, so any client could
                // fill the log with one bad request after another
                OrtEnvironment created = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "berth");
                // outlive ONNX Runtime's own shutdown hook, which would free the environment under a running session
                EnvironmentHold.take(created);
                removeOrtTempFolder();
                environment = created;
            }
            return environment;
        }
    }

    /**
     * At process shutdown, once the server has stopped: drops the reference berth holds on ONNX
     * Runtime's native environment so that it is freed after the last session, not under a running
     * one (see {@link EnvironmentHold}). Does nothing while a served session is still open, or when
     * ONNX Runtime was never used. No session may be created afterwards in this JVM.
     */
    public static void releaseAtShutdown() {
        if (environment != null) {
            EnvironmentHold.release();
        }
    }

    /**
     * Sets {@value #NATIVE_PATH} to a folder holding this platform's libraries, extracting them
     * where needed. Idempotent; does nothing once ONNX Runtime has been loaded.
     */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        String platform = platform();
        List<String> libraries = libraryNames(platform);
        String set = System.getProperty(NATIVE_PATH);
        if (set != null && !set.isBlank()) {
            Path dir = Path.of(set).toAbsolutePath();
            Path resolved = holdsLibraries(dir, libraries) ? dir
                    : platform != null && holdsLibraries(dir.resolve(platform), libraries) ? dir.resolve(platform) : null;
            if (resolved != null) {
                if (!Files.isRegularFile(resolved.resolve(MARKER)) || platform == null || verified(resolved, platform, libraries)) {
                    use(resolved);
                    return;
                }
                // a folder berth extracted that no longer matches the jar: extract it again
            } else if (Files.exists(dir) && !isEmptyFolder(dir) && !Files.isRegularFile(dir.resolve(MARKER))) {
                LOG.log(System.Logger.Level.WARNING, NATIVE_PATH + "=" + set + " holds no " + libraries
                        + "; ONNX Runtime will refuse to load");
                return;
            }
            if (platform != null && inJar(platform, libraries) && tryInstall(dir, platform, libraries)) {
                return;
            }
        }
        Path shipped = shippedFolder(platform, libraries);
        if (shipped != null) {
            use(shipped);
            return;
        }
        if (platform == null || !inJar(platform, libraries)) {
            LOG.log(System.Logger.Level.DEBUG, "no ONNX Runtime natives for " + platform + " in its jar; it loads them its own way");
            return;
        }
        for (Path candidate : cacheCandidates(platform)) {
            if (tryInstall(candidate, platform, libraries)) {
                return;
            }
        }
        LOG.log(System.Logger.Level.WARNING, "no writable cache folder for ONNX Runtime's native libraries;"
                + " ONNX Runtime extracts them into a temp folder of its own");
    }

    private static void use(Path dir) {
        System.setProperty(NATIVE_PATH, dir.toString());
        LOG.log(System.Logger.Level.DEBUG, () -> "ONNX Runtime natives from " + dir);
    }

    private static boolean tryInstall(Path dir, String platform, List<String> libraries) {
        try {
            install(dir, platform, libraries);
            use(dir);
            return true;
        } catch (IOException | UncheckedIOException | SecurityException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot use " + dir + " for ONNX Runtime's natives: " + e);
            return false;
        }
    }

    /** The cache folders to try, in order; the name carries ONNX Runtime's version and the platform. */
    static List<Path> cacheCandidates(String platform) {
        String leaf = "onnxruntime-" + ortVersion() + "-" + platform;
        List<Path> out = new ArrayList<>();
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            out.add(Path.of(xdg, "berth", leaf));
        } else {
            String home = System.getProperty("user.home");
            if (home != null && !home.isBlank() && !home.equals("?")) {
                out.add(Path.of(home, ".cache", "berth", leaf));
            }
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        out.add(Path.of(System.getProperty("java.io.tmpdir"), "berth-" + user, leaf));
        return out;
    }

    /** {@code native/<platform>} beside the folder of ONNX Runtime's jar (an image's {@code /app/native}), when it holds the libraries. */
    private static Path shippedFolder(String platform, List<String> libraries) {
        if (platform == null) {
            return null;
        }
        try {
            var source = OrtEnvironment.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return null;
            }
            Path jar = Path.of(source.getLocation().toURI());
            Path home = jar.getParent() == null ? null : jar.getParent().getParent();
            Path dir = home == null ? null : home.resolve("native").resolve(platform);
            return dir != null && holdsLibraries(dir, libraries) ? dir : null;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Extracts this platform's libraries into {@code dir} unless a verified copy is there already.
     * Safe against other JVMs doing the same at the same time.
     */
    static void install(Path dir, String platform, List<String> libraries) throws IOException {
        if (holdsLibraries(dir, libraries) && verified(dir, platform, libraries)) {
            return;
        }
        Path parent = dir.getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, "." + dir.getFileName() + ".staging-");
        try {
            Properties marker = new Properties();
            for (String lib : libraries) {
                String[] sizeAndHash = extract(RESOURCES + platform + "/" + lib, staging.resolve(lib));
                marker.setProperty(lib, sizeAndHash[0] + " " + sizeAndHash[1]);
            }
            try (OutputStream out = Files.newOutputStream(staging.resolve(MARKER))) {
                marker.store(out, "ONNX Runtime " + ortVersion() + " natives for " + platform + ", extracted by berth");
            }
            force(staging.resolve(MARKER));
            for (int attempt = 0; ; attempt++) {
                try {
                    Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                    force(parent);
                    return;
                } catch (IOException e) {
                    // another JVM got there first, or a damaged copy is in the way (renaming onto a
                    // folder that is not empty fails with ENOTEMPTY, which Java reports as a plain FileSystemException)
                    if (holdsLibraries(dir, libraries) && verified(dir, platform, libraries)) {
                        return;
                    }
                    if (attempt > 0) {
                        throw e;
                    }
                    Path aside = parent.resolve("." + dir.getFileName() + ".broken-" + UUID.randomUUID());
                    try {
                        Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
                        deleteTree(aside);
                    } catch (IOException gone) {
                        // another JVM moved it first; try the rename again
                    }
                }
            }
        } finally {
            if (Files.exists(staging)) {
                deleteTree(staging);
            }
        }
    }

    /** Copies a resource of ONNX Runtime's jar to {@code target}, forced to disk; returns {size, sha256}. */
    private static String[] extract(String resource, Path target) throws IOException {
        long size;
        try (InputStream in = OrtEnvironment.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no resource " + resource);
            }
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
                size = in.transferTo(out);
            }
        }
        force(target);
        return new String[] {Long.toString(size), AtomicFiles.sha256(target)};
    }

    /**
     * Whether a folder berth extracted still holds what its marker says, and the jar's libraries
     * are the same size: a folder written by another build of the same version, or truncated since,
     * fails.
     */
    static boolean verified(Path dir, String platform, List<String> libraries) {
        Properties marker = new Properties();
        try (InputStream in = Files.newInputStream(dir.resolve(MARKER))) {
            marker.load(in);
            for (String lib : libraries) {
                String entry = marker.getProperty(lib);
                if (entry == null) {
                    return false;
                }
                String[] sizeAndHash = entry.trim().split(" ");
                long size = Long.parseLong(sizeAndHash[0]);
                Path file = dir.resolve(lib);
                if (Files.size(file) != size || resourceSize(RESOURCES + platform + "/" + lib) != size) {
                    LOG.log(System.Logger.Level.WARNING, "ONNX Runtime native " + file + " does not match what was extracted; extracting again");
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long resourceSize(String resource) throws IOException {
        URL url = OrtEnvironment.class.getResource(resource);
        if (url == null) {
            return -1;
        }
        // the size from the jar's directory; the entry itself is not inflated
        URLConnection connection = url.openConnection();
        return connection.getContentLengthLong();
    }

    private static void force(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // a folder cannot be opened for fsync on every platform; the rename is still atomic
        }
    }

    private static boolean holdsLibraries(Path dir, List<String> libraries) {
        if (libraries.isEmpty()) {
            return false;
        }
        for (String lib : libraries) {
            if (!Files.isRegularFile(dir.resolve(lib))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isEmptyFolder(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean inJar(String platform, List<String> libraries) {
        for (String lib : libraries) {
            if (OrtEnvironment.class.getResource(RESOURCES + platform + "/" + lib) == null) {
                return false;
            }
        }
        return !libraries.isEmpty();
    }

    /** The libraries ONNX Runtime loads on this platform (the providers' shared library where its jar has one). */
    static List<String> libraryNames(String platform) {
        List<String> libs = new ArrayList<>(List.of(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni")));
        String shared = System.mapLibraryName("onnxruntime_providers_shared");
        if (platform != null && OrtEnvironment.class.getResource(RESOURCES + platform + "/" + shared) != null) {
            libs.add(shared);
        }
        return libs;
    }

    /** ONNX Runtime's name for this platform ({@code linux-x64}, {@code osx-aarch64}, ...), as its jar's folders are named; null when unknown. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win" : os.contains("linux") ? "linux" : null;
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch.isEmpty() ? null : arch;
        };
        return o == null || a == null ? null : o + "-" + a;
    }

    /** ONNX Runtime's version from its jar's manifest, read without loading the natives. */
    static String ortVersion() {
        String v = OrtEnvironment.class.getPackage().getImplementationVersion();
        return v == null || v.isBlank() ? "unknown" : v.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /**
     * Deletes the empty temp folder ONNX Runtime created while loading (it only registers it for
     * deletion at exit). Read from ONNX Runtime's loader by reflection; if a later version moves it,
     * this does nothing and the folder is left as before.
     */
    private static void removeOrtTempFolder() {
        try {
            Class<?> loader = Class.forName("ai.onnxruntime.OnnxRuntime");
            Field field = loader.getDeclaredField("tempDirectory");
            field.setAccessible(true);
            if (field.get(null) instanceof Path temp && Files.isDirectory(temp) && isEmptyFolder(temp)) {
                Files.deleteIfExists(temp);
            }
        } catch (ReflectiveOperationException | RuntimeException | IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not remove ONNX Runtime's temp folder: " + e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not delete " + root + ": " + e);
        }
    }
}
