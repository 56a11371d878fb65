package dev.berth.packager;

import dev.berth.registry.ModelManifest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything an image runs besides the model, written to {@value ImagePackager#DEPENDENCIES_PATH}
 * in the image: the runtime (base image, Java requirement, ONNX Runtime, berth), every jar with
 * its Maven coordinates and hash, and what the model was trained with.
 *
 * @param format   format marker, {@value #FORMAT}
 * @param model    name, version and model file hash
 * @param runtime  what serves the model: {@code base_image}, {@code java}, {@code onnxruntime}, {@code berth}
 * @param jars     every jar on the server's class path, in image path order
 * @param training the model's training requirements and the runtime it was registered with
 */
public record DependencyManifest(String format, Map<String, Object> model, Map<String, String> runtime, List<Jar> jars,
                                 Training training) {
    /** The value of {@code format} in the files this version writes. */
    public static final String FORMAT = "berth.image-dependencies/1";
    /** Java feature release the server needs (it is compiled for it). */
    static final String JAVA_REQUIREMENT = ">=21";

    /**
     * One jar in the image.
     *
     * @param path       where it is in the image
     * @param groupId    Maven group, null where the jar carries no Maven metadata
     * @param artifactId Maven artifact, or the file name's stem
     * @param version    version from Maven metadata or the file name, null where unknown
     * @param sha256     content hash (of the jar as it is in the image)
     * @param size       bytes
     * @param note       how the jar differs from the published one, or null when it is the same file
     */
    public record Jar(String path, String groupId, String artifactId, String version, String sha256, long size, String note) {
    }

    /**
     * @param requirementsFile the requirements file inside the version folder, or null
     * @param requirements     its lines, for example {@code numpy==2.4.6}
     * @param registeredWith   the runtime recorded when the version was registered
     */
    public record Training(String requirementsFile, List<String> requirements, Map<String, String> registeredWith) {
    }

    private static final Pattern VERSIONED_NAME = Pattern.compile("(.+?)-(\\d[^-]*(?:-[A-Za-z0-9.]+)?)\\.jar");

    static DependencyManifest of(ModelManifest manifest, ServerJars server, BaseImage base,
                                 Map<Path, String> imagePaths) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", manifest.name());
        model.put("version", manifest.version());
        if (!manifest.files().isEmpty()) {
            model.put("file", manifest.modelFile().path());
            model.put("sha256", manifest.modelFile().sha256());
        }
        List<Jar> jars = new ArrayList<>();
        String onnxRuntime = null;
        for (Map.Entry<Path, String> e : imagePaths.entrySet()) {
            Jar jar = describe(e.getKey(), e.getValue());
            if ("onnxruntime".equals(jar.artifactId())) {
                onnxRuntime = jar.version();
            }
            jars.add(jar);
        }
        Map<String, String> runtime = new LinkedHashMap<>();
        runtime.put("base_image", base.toString());
        runtime.put("java", JAVA_REQUIREMENT);
        runtime.put("onnxruntime", onnxRuntime == null ? "unknown" : onnxRuntime);
        runtime.put("berth", server.version());
        ModelManifest.Dependencies deps = manifest.dependencies();
        Training training = new Training(deps.requirementsFile(), deps.requirements(), new TreeMap<>(deps.runtime()));
        return new DependencyManifest(FORMAT, model, runtime, jars, training);
    }

    static Jar describe(Path file, String imagePath) {
        String groupId = null;
        String artifactId = null;
        String version = null;
        try (JarFile jar = new JarFile(file.toFile())) {
            // a shaded jar may carry several pom.properties; the one matching the file name is the jar's own
            String stem = file.getFileName().toString().replaceFirst("\\.jar$", "");
            for (JarEntry entry : jar.stream().filter(en -> en.getName().startsWith("META-INF/maven/")
                    && en.getName().endsWith("/pom.properties")).toList()) {
                Properties p = new Properties();
                try (InputStream in = jar.getInputStream(entry)) {
                    p.load(in);
                }
                String a = p.getProperty("artifactId");
                if (a != null && (artifactId == null || stem.startsWith(a + "-"))) {
                    groupId = p.getProperty("groupId");
                    artifactId = a;
                    version = p.getProperty("version");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read jar " + file, e);
        }
        if (artifactId == null) {
            Matcher m = VERSIONED_NAME.matcher(file.getFileName().toString());
            if (m.matches()) {
                artifactId = m.group(1);
                version = m.group(2);
            } else {
                artifactId = file.getFileName().toString().replaceFirst("\\.jar$", "");
            }
        }
        try {
            String note = OnnxRuntimeJar.isOnnxRuntime(file) ? "natives removed by berth package: the Linux ones are files in " + ImagePackager.NATIVE_DIR + "/<platform>/, the others are not in the image" : null;
            return new Jar(imagePath, groupId, artifactId, version, sha256(file), Files.size(file), note);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read jar " + file, e);
        }
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
