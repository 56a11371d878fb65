package dev.berth.packager;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image's heap options in a real JVM: the heap follows the memory the container is given
 * ({@code -XX:MaxRAM} stands in for a cgroup limit, which the JVM reads the same way),
 * {@code _JAVA_OPTIONS} overrides them, and the top-level Dockerfile runs its server with the same
 * options as {@code berth package}'s images.
 */
class ImageJvmOptionsTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void theHeapFollowsTheMemoryLimit() throws Exception {
        Map<String, Long> small = finalFlags(Map.of(), "-XX:MaxRAM=512m");
        assertEquals(384 * MIB, small.get("MaxHeapSize"), "75 % of a 512 MiB limit: " + small);
        assertEquals(8 * MIB, small.get("InitialHeapSize"), "the JVM's 1/64 of the limit to start with: " + small);

        Map<String, Long> large = finalFlags(Map.of(), "-XX:MaxRAM=8g");
        assertEquals(6144 * MIB, large.get("MaxHeapSize"), "75 % of an 8 GiB limit: " + large);
        assertEquals(128 * MIB, large.get("InitialHeapSize"), large.toString());
    }

    @Test
    void javaOptionsInTheEnvironmentOverrideTheImagesOptions() throws Exception {
        Map<String, Long> flags = finalFlags(Map.of("_JAVA_OPTIONS", "-XX:MaxRAMPercentage=50 -Xmn256m"), "-XX:MaxRAM=8g");
        assertEquals(4096 * MIB, flags.get("MaxHeapSize"), "the environment's percentage, read after the command line's: " + flags);
        assertEquals(256 * MIB, flags.get("MaxNewSize"), flags.toString());
    }

    @Test
    void theDockerfileRunsTheServerWithTheSameHeapOptions() throws IOException {
        String dockerfile = Files.readString(Path.of("..").toAbsolutePath().normalize().resolve("Dockerfile"));
        Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT \\[(.*?)\\]$", Pattern.DOTALL).matcher(dockerfile.replace("\\\n", ""));
        assertTrue(entrypoint.find(), "an exec-form ENTRYPOINT in the Dockerfile");
        List<String> words = Pattern.compile("\"([^\"]*)\"").matcher(entrypoint.group(1)).results().map(m -> m.group(1)).toList();
        List<String> jvmOptions = words.subList(0, words.indexOf("-cp"));
        List<String> packaged = ImagePackager.entrypoint("main");
        assertEquals(packaged.subList(0, packaged.indexOf("-cp")).stream().filter(o -> !o.startsWith("-Donnxruntime.native.path")).toList(),
                jvmOptions, "the Dockerfile and berth package start the server JVM alike (the Dockerfile's natives are in the jar)");
    }

    /** {@code java IMAGE_HEAP_OPTIONS EXTRA -XX:+PrintFlagsFinal -version}: the heap sizes it settled on, bytes. */
    private static Map<String, Long> finalFlags(Map<String, String> environment, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ImagePackager.HEAP_OPTIONS);
        command.addAll(List.of(extra));
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().putAll(environment);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -version finished");
        assertEquals(0, p.exitValue(), out);
        Map<String, Long> flags = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*\\S+\\s+(MaxHeapSize|InitialHeapSize|MaxNewSize|NewSize)\\s+:?=\\s+(\\S+)").matcher(out);
        while (m.find()) {
            String value = m.group(2);
            flags.put(m.group(1), Long.parseLong(value));
        }
        assertEquals(4, flags.size(), "the four flags in the output:\n" + out);
        return flags;
    }
}
