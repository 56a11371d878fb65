package dev.berth.cli;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code berth register DIR} keeps every file and lists it, refuses identical content, and {@code delete} of the last version removes the model. */
class RegisterFolderCliTest {
    @TempDir
    Path tmp;
    Path run;
    Path models;

    record Result(int code, String out, String err) {
        String lastLine() {
            List<String> lines = out.lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        // a training run's output folder: the sample's known files plus what a real run leaves behind
        run = Samples.copy(Samples.CHURN, tmp.resolve("run"));
        Files.writeString(run.resolve("train.log"), "epoch 1 loss 0.70\nepoch 2 loss 0.52\n");
        Files.write(run.resolve("loss_curve.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        Files.createDirectories(run.resolve("checkpoints"));
        Files.writeString(run.resolve("checkpoints/epoch2.pt"), "weights");
        models = tmp.resolve("models");
    }

    Result berth(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--models");
        all.add(models.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void aFolderKeepsEveryFileListsItAndLeavesOutExcludes() throws IOException {
        Result r = berth("register", run.toString(), "--name", "churn", "--exclude", "checkpoints");
        assertEquals(0, r.code(), r.err());
        assertEquals("1", r.lastLine());
        List<String> out = r.out().lines().toList();
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+model\\.onnx\\s+model\\s+\\S+ (B|KiB)")), r.out());
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+metrics\\.json\\s+metrics\\s+.*")), r.out());
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+train\\.log\\s+artifact\\s+" + size("train.log") + " B")), r.out());
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+loss_curve\\.png\\s+artifact\\s+8 B")), r.out());
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+data/customer_data\\.csv\\s+data\\s+.*")), r.out());
        assertFalse(r.out().contains("epoch2.pt"), r.out());
        assertTrue(out.get(out.size() - 2).startsWith("registered churn:1 in " + models + " (13 files, model sha256 "), r.out());

        Path v1 = models.resolve("churn/1");
        assertEquals(Files.readString(run.resolve("train.log")), Files.readString(v1.resolve("train.log")));
        assertTrue(Files.exists(v1.resolve("loss_curve.png")));
        assertFalse(Files.exists(v1.resolve("checkpoints")));
        assertEquals(0, berth("verify", "churn:1").code());

        // --exclude only means something for a folder
        Result onFile = berth("register", run.resolve("model.onnx").toString(), "--name", "x", "--exclude", "*.pt");
        assertEquals(2, onFile.code());
        assertEquals(1, onFile.err().lines().count(), onFile.err());
    }

    private long size(String file) {
        try {
            return Files.size(run.resolve(file));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void identicalContentIsRefusedInOneLineUnlessAllowed() throws IOException {
        assertEquals(0, berth("register", run.toString(), "--name", "churn").code());
        Map<String, String> before = TreeSnapshot.of(tmp);
        Result again = berth("register", run.toString(), "--name", "churn", "--tag", "retry=1");
        assertEquals(1, again.code(), again.toString());
        assertEquals("berth register: identical content is already registered as churn:1 (same model and files);"
                + " use --allow-duplicate to make a new version anyway", again.err().strip());
        assertEquals(before, TreeSnapshot.of(tmp));

        Result allowed = berth("register", run.toString(), "--name", "churn", "--allow-duplicate");
        assertEquals(0, allowed.code(), allowed.err());
        assertEquals("2", allowed.lastLine());
        // a changed log is new content
        Files.writeString(run.resolve("train.log"), "epoch 1 loss 0.69\n");
        assertEquals("3", berth("register", run.toString(), "--name", "churn").lastLine());
    }

    @Test
    void deletingTheLastVersionLeavesNoEmptyModelInList() {
        assertEquals(0, berth("register", run.toString(), "--name", "churn", "--alias", "production").code());
        assertEquals(0, berth("register", run.toString(), "--name", "other").code());
        Result deleted = berth("delete", "churn:1", "--force");
        assertEquals(0, deleted.code(), deleted.err());
        assertTrue(deleted.out().contains("model churn had no other version and is removed with its aliases (production)"), deleted.out());
        List<String> list = berth("list").out().lines().toList();
        assertEquals(2, list.size(), list.toString());
        assertTrue(list.get(1).startsWith("other "), list.toString());
        assertEquals(1, berth("show", "churn").code());
        assertEquals(List.of("other"), LocalRegistry.open(models).models());
        Result again = berth("register", run.toString(), "--name", "churn");
        assertEquals("2", again.lastLine(), "numbers are not reused");
        ModelManifest m = LocalRegistry.open(models).storedManifest("churn", 2).orElseThrow();
        assertTrue(m.artifacts().stream().anyMatch(f -> f.path().equals("train.log")));
    }
}
