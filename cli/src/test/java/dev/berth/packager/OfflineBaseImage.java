package dev.berth.packager;

import dev.berth.cli.ServingJars;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * A Java base image built offline from this machine's own parts: a {@code jlink}ed runtime from
 * the JDK running the tests plus the host libraries that {@code ldd} lists for it and for ONNX
 * Runtime's native library. Packed with {@code umoci} into an OCI layout and also written as a
 * docker-archive tarball (the form Jib reads as a local base). Built once into
 * {@code target/base-image} and reused by every test of the build.
 */
final class OfflineBaseImage {
    static final String TAG = "base";
    private static final Path DIR = Path.of("target", "base-image").toAbsolutePath();
    private static final List<String> MODULES = List.of("java.base", "java.logging", "java.management", "java.naming",
            "java.net.http", "java.sql", "java.xml", "jdk.unsupported", "jdk.management", "jdk.zipfs", "java.instrument",
            "jdk.crypto.ec",
            // berth report draws charts with Java2D, and picocli inspects every command class at start-up
            "java.desktop");
    /** What the cached image was built from; a different recipe rebuilds it. */
    private static final String RECIPE = String.join(",", MODULES) + "|" + System.getProperty("java.home");

    private OfflineBaseImage() {
    }

    /** The OCI layout folder; image tag {@value #TAG}. */
    static synchronized Path ociLayout() {
        ensureBuilt();
        return DIR.resolve("oci");
    }

    /** The docker-archive tarball. */
    static synchronized Path dockerArchive() {
        ensureBuilt();
        return DIR.resolve("base.tar");
    }

    /** Pushes the base image to {@code registry} as {@code repository:tag} and returns the reference. */
    static String pushTo(LocalOciRegistry registry, String repositoryAndTag) {
        String ref = registry.address() + "/" + repositoryAndTag;
        Cmd.run(Map.of(), Duration.ofMinutes(2), "skopeo", "copy", "-q", "--dest-tls-verify=false",
                "oci:" + ociLayout() + ":" + TAG, "docker://" + ref);
        return ref;
    }

    private static void ensureBuilt() {
        try {
            if (Files.isRegularFile(DIR.resolve("base.tar")) && Files.isDirectory(DIR.resolve("oci"))
                    && Files.exists(DIR.resolve("recipe.txt")) && Files.readString(DIR.resolve("recipe.txt")).equals(RECIPE)) {
                return;
            }
        } catch (IOException e) {
            // unreadable cache: build again
        }
        try {
            Path work = Files.createDirectories(DIR.getParent()).resolve("base-image.work");
            Cmd.deleteTree(work);
            Files.createDirectories(work);
            build(work);
            Files.writeString(work.resolve("out/recipe.txt"), RECIPE);
            Cmd.deleteTree(DIR);
            Files.move(work.resolve("out"), DIR, StandardCopyOption.ATOMIC_MOVE);
            Cmd.deleteTree(work);
        } catch (IOException e) {
            throw new AssertionError("cannot build the offline base image: " + e.getMessage(), e);
        }
    }

    private static void build(Path work) throws IOException {
        Path jdk = linkableJdk();
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        Path java = rootfs.resolve("opt/java");
        Files.createDirectories(java.getParent());
        Cmd.run(Map.of(), Duration.ofMinutes(3), jdk.resolve("bin/jlink").toString(), "--add-modules", String.join(",", MODULES),
                "--strip-debug", "--no-man-pages", "--no-header-files", "--output", java.toString());

        Path natives = extractOnnxRuntime(work.resolve("ort"));
        List<String> lddArgs = new ArrayList<>(List.of("ldd", java.resolve("bin/java").toString(), java.resolve("lib/server/libjvm.so").toString()));
        try (Stream<Path> libs = Files.list(java.resolve("lib"))) {
            libs.filter(p -> p.getFileName().toString().endsWith(".so")).sorted().forEach(p -> lddArgs.add(p.toString()));
        }
        lddArgs.add(natives.toString());
        // ldd exits non-zero when one library lists "not found" (the JNI shim's sibling); its output is still complete
        String ldd = Cmd.exec(Map.of(), Duration.ofMinutes(1), lddArgs).out();
        TreeSet<String> hostLibs = new TreeSet<>();
        for (String line : ldd.lines().toList()) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length >= 3 && parts[1].equals("=>") && parts[2].startsWith("/") && !parts[2].startsWith(work.toString())) {
                hostLibs.add(parts[2]);
            } else if (parts.length >= 1 && parts[0].startsWith("/lib") && !parts[0].endsWith(":")) {
                hostLibs.add(parts[0]);
            }
        }
        for (String extra : List.of("/lib/x86_64-linux-gnu/libnss_files.so.2")) {
            if (Files.exists(Path.of(extra))) {
                hostLibs.add(extra);
            }
        }
        for (String lib : hostLibs) {
            Path target = rootfs.resolve(lib.substring(1));
            Files.createDirectories(target.getParent());
            Files.copy(Path.of(lib), target, StandardCopyOption.REPLACE_EXISTING);
        }
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nnonroot:x:65532:\n");
        Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
        Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Cmd.run("chmod", "1777", tmp.toString());

        Path out = Files.createDirectories(work.resolve("out"));
        Path oci = out.resolve("oci");
        Path bundle = work.resolve("bundle");
        // umoci names an image LAYOUT:TAG; skopeo calls the same image oci:LAYOUT:TAG
        String image = oci + ":" + TAG;
        Cmd.run("umoci", "init", "--layout", oci.toString());
        Cmd.run("umoci", "new", "--image", image);
        Cmd.run("umoci", "unpack", "--image", image, bundle.toString());
        Cmd.run("cp", "-a", rootfs + "/.", bundle.resolve("rootfs") + "/");
        Cmd.run("umoci", "repack", "--image", image, bundle.toString());
        Cmd.run("umoci", "config", "--image", image, "--config.env", "PATH=/opt/java/bin:/usr/bin:/bin",
                "--config.env", "JAVA_HOME=/opt/java", "--config.workingdir", "/", "--author", "berth tests");
        Cmd.run("umoci", "gc", "--layout", oci.toString());
        Cmd.run("skopeo", "copy", "-q", "oci:" + image, "docker-archive:" + out.resolve("base.tar") + ":berth-test/base:latest");
    }

    /**
     * A JDK whose jlink can build a runtime: one with jmods, or 24+ where jlink links from the
     * running image (JEP 493). The JDK running the tests first, then those in /usr/lib/jvm.
     */
    static Path linkableJdk() throws IOException {
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of(System.getProperty("java.home")));
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> dirs = Files.list(jvms)) {
                dirs.sorted(java.util.Comparator.reverseOrder()).forEach(candidates::add);
            }
        }
        for (Path jdk : candidates) {
            if (!Files.isExecutable(jdk.resolve("bin/jlink"))) {
                continue;
            }
            if (Files.isDirectory(jdk.resolve("jmods")) || feature(javaVersion(jdk)) >= 24) {
                return jdk.toRealPath();
            }
        }
        throw new AssertionError("no JDK with jlink that can link (jmods, or JDK 24+) among " + candidates);
    }

    private static int feature(String version) {
        try {
            return Runtime.Version.parse(version).feature();
        } catch (IllegalArgumentException e) {
            return 0; // 1.8.0_x and the like: far too old anyway
        }
    }

    private static String javaVersion(Path jdk) throws IOException {
        Path release = jdk.resolve("release");
        if (Files.exists(release)) {
            for (String line : Files.readAllLines(release)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return line.substring("JAVA_VERSION=".length()).replace("\"", "");
                }
            }
        }
        return "0";
    }

    private static Path extractOnnxRuntime(Path dir) throws IOException {
        Path lib = ServingJars.locate().classPath().get(0).getParent();
        Path jar;
        try (Stream<Path> jars = Files.list(lib)) {
            jar = jars.filter(p -> p.getFileName().toString().startsWith("onnxruntime-")).findFirst()
                    .orElseThrow(() -> new AssertionError("no onnxruntime jar in " + lib));
        }
        Files.createDirectories(dir);
        Path out = dir.resolve("libonnxruntime.so");
        try (JarFile jf = new JarFile(jar.toFile()); InputStream in = jf.getInputStream(jf.getEntry("ai/onnxruntime/native/linux-x64/libonnxruntime.so"))) {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }
}
