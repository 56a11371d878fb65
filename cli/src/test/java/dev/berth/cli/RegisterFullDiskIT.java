package dev.berth.cli;

import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth register} into a registry whose disk is full, for real: a small tmpfs mounted in a
 * private mount namespace ({@code unshare --user --map-root-user --mount}, no root needed, as
 * monitoring's {@code FullDiskIT} does) holds a copy of a registry and a filler file that leaves
 * exactly N free pages. N runs from 0 upwards until the registration fits, so the disk fills up at
 * every step of a registration in turn: copying the model and its files, writing the manifest,
 * recording the version number, writing the alias into {@code model.json}. Every attempt that does
 * not fit must fail cleanly: exit 1, one line on stderr that says the disk is full, and the registry
 * byte for byte as it was (no version folder, no staging folder, no temporary file, the index and
 * aliases untouched). The next command, once the filler is gone, must register the version and leave
 * nothing hidden behind, and {@code berth verify} must pass.
 */
class RegisterFullDiskIT {
    /** tmpfs counts its size in pages; the filler leaves a whole number of them. */
    private static final int PAGE = 4096;
    /** More pages than the registration below needs (about a dozen): the sweep ends with a success well before. */
    private static final int MOST_FREE_PAGES = 64;
    /** What each attempt runs inside the namespace; see {@link #attempt}. */
    private static final String SCRIPT = """
            set -u
            small=$1 pristine=$2 input=$3 out=$4 free=$5; shift 5
            mount -t tmpfs -o size=2m berth-small "$small" || exit 90
            cp -a "$pristine" "$small/models" || exit 91
            count=$(( $(stat -f -c %a "$small") - free ))
            if [ "$count" -gt 0 ]; then dd if=/dev/zero of="$small/filler" bs=4096 count="$count" 2>/dev/null; fi
            [ "$(stat -f -c %a "$small")" -eq "$free" ] || exit 92
            register() {
              "$@" register "$input/model.onnx" --name churn --models "$small/models" --metrics "$input/metrics.json" \\
                  --params "$input/hyperparameters.json" --requirements "$input/requirements.txt" --alias staging
            }
            register "$@" >"$out/stdout" 2>"$out/stderr"; echo $? >"$out/exit"
            cp -a "$small/models" "$out/after-failure"
            if [ "$(cat "$out/exit")" != 0 ]; then
              rm -f "$small/filler"
              register "$@" >"$out/next-stdout" 2>"$out/next-stderr"; echo $? >"$out/next-exit"
              "$@" verify churn --models "$small/models" >"$out/verify-stdout" 2>&1; echo $? >"$out/verify-exit"
              cp -a "$small/models" "$out/after-next"
            fi
            """;

    @TempDir
    Path work;

    @Test
    void aRegistrationThatDoesNotFitFailsInOneLineAndLeavesTheRegistryAsItWas() throws Exception {
        Path input = Files.createDirectories(work.resolve("run"));
        Path sample = Samples.copy(Samples.CHURN, work.resolve("sample"));
        for (String f : List.of("model.onnx", "metrics.json", "hyperparameters.json", "requirements.txt")) {
            Files.copy(sample.resolve(f), input.resolve(f));
        }
        // the registry the attempts start from: churn:1 from the whole sample, alias production
        Path pristine = work.resolve("pristine");
        Process first = new ProcessBuilder(javaCommand("register", sample.toString(), "--name", "churn", "--models", pristine.toString(),
                "--alias", "production")).redirectErrorStream(true).start();
        String firstOut = new String(first.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(first.waitFor(120, TimeUnit.SECONDS) && first.exitValue() == 0, firstOut);
        Map<String, String> before = tree(pristine);

        int failed = 0;
        List<String> messages = new ArrayList<>();
        for (int free = 0; free <= MOST_FREE_PAGES; free++) {
            Path out = Files.createDirectories(work.resolve("attempt-" + free));
            run(free, pristine, input, out);
            String stderr = berthLines(out.resolve("stderr"));
            int exit = Integer.parseInt(Files.readString(out.resolve("exit")).trim());
            if (exit == 0) {
                List<String> printed = berthLines(out.resolve("stdout")).lines().toList();
                assertEquals("2", printed.get(printed.size() - 1), "with " + free + " free pages it fits: version 2");
                assertEquals(List.of(), hidden(tree(out.resolve("after-failure"))), "a registration that fits leaves nothing hidden");
                break;
            }
            failed++;
            String what = "with " + free + " free pages (" + free * PAGE + " bytes): ";
            assertEquals(1, exit, what + "exit 1, a failure, not misuse or a crash; stderr:\n" + stderr);
            assertEquals(1, stderr.lines().count(), what + "one line on stderr:\n" + stderr);
            assertTrue(stderr.startsWith("berth register: registering 'churn' failed: No space left on device"),
                    what + "the line says the disk is full: " + stderr);
            messages.add(stderr.strip());
            assertEquals(before, tree(out.resolve("after-failure")), what + "the registry is byte for byte as it was");

            assertEquals("0", Files.readString(out.resolve("next-exit")).trim(),
                    what + "the next register, with room, works: " + Files.readString(out.resolve("next-stderr")));
            List<String> printed = berthLines(out.resolve("next-stdout")).lines().toList();
            assertEquals("2", printed.get(printed.size() - 1), what + "the next register makes version 2, the number the failed one did not take");
            Map<String, String> after = tree(out.resolve("after-next"));
            assertEquals(List.of(), hidden(after), what + "nothing hidden (no .tmp, no staging folder) after the next command");
            assertTrue(after.containsKey("churn/2/manifest.json"), what + "version 2 is whole: " + after.keySet());
            assertEquals("0", Files.readString(out.resolve("verify-exit")).trim(),
                    what + "berth verify passes: " + Files.readString(out.resolve("verify-stdout")));
        }
        System.out.println("register into a full disk: " + failed + " attempts failed cleanly before it fit; messages:\n"
                + String.join("\n", messages.stream().distinct().toList()));
        // the files copied into the staging folder take this many pages; attempts with at least that many free
        // pages failed later: writing the manifest, or after the version folder was moved into place (the
        // version number file), where the move is undone
        long copied = 0;
        for (String f : List.of("model.onnx", "metrics.json", "hyperparameters.json", "requirements.txt")) {
            copied += (Files.size(input.resolve(f)) + PAGE - 1) / PAGE;
        }
        assertTrue(failed >= copied + 2, "the disk filled up while copying the files (" + copied + " pages), writing the manifest and after"
                + " the move, not just at the first write: " + failed + " attempts failed");
        assertTrue(failed <= MOST_FREE_PAGES, "the registration fit once there was room");
    }

    /** One attempt in a fresh namespace with {@code free} pages left on the small disk; its results land in {@code out}. */
    private void run(int free, Path pristine, Path input, Path out) throws Exception {
        Path small = Files.createDirectories(work.resolve("small"));
        List<String> command = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--mount", "bash", "-c", SCRIPT, "bash",
                small.toString(), pristine.toString(), input.toString(), out.toString(), Integer.toString(free)));
        command.addAll(javaCommand());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "attempt with " + free + " free pages finished: " + log);
        assertEquals(0, p.exitValue(), "the small disk was set up with " + free + " free pages (exit 90: mount, 91: copy, 92: fill): " + log);
    }

    /**
     * {@code java ... BerthMain args}: the class path in an @argfile, since ONNX Runtime crashes in a
     * JVM whose command line is longer than about 4 KB (docs/native-safety.md).
     */
    private List<String> javaCommand(String... args) throws IOException {
        Path argFile = work.resolve("berth.args");
        if (!Files.exists(argFile)) {
            Files.writeString(argFile, "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n");
        }
        List<String> command = new ArrayList<>(BerthJvm.command(List.of("-XX:TieredStopAtLevel=1")).subList(0, 3));
        command.addAll(List.of("@" + argFile, BerthMain.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** What berth printed: the JVM's own start-up warnings (not berth's output; the launcher turns them off) left out. */
    private static String berthLines(Path file) throws IOException {
        StringBuilder s = new StringBuilder();
        Files.readString(file, StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("WARNING: ")).forEach(l -> s.append(l).append('\n'));
        return s.toString();
    }

    /** Every file (relative path to SHA-256) and folder (to "dir") under {@code root}, the registry lock file left out. */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(p -> !p.equals(root)).toList()) {
                String rel = root.relativize(p).toString();
                if (rel.equals(".lock")) {
                    continue; // the registry's lock, empty, created by the first writer and kept on purpose
                }
                tree.put(rel, Files.isDirectory(p) ? "dir" : sha256(p));
            }
        }
        return tree;
    }

    /** Hidden entries other than the lock: temporaries and staging folders a failed write could leave. */
    private static List<String> hidden(Map<String, String> tree) {
        return tree.keySet().stream().filter(rel -> Stream.of(rel.split("/")).anyMatch(part -> part.startsWith(".") && !part.equals(".lock"))
                && !rel.endsWith("/" + ".last-version")).toList();
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
