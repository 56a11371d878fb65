package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.berth.registry.RegistryWriteTest.READER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A folder registration keeps every file, refuses identical content, and deleting the last version removes the model. */
class FolderRegistrationTest {
    @TempDir
    Path tmp;
    Path folder;
    LocalRegistry registry;

    @BeforeEach
    void setUp() throws IOException {
        folder = Samples.copy(Samples.CHURN, tmp.resolve("run"));
        Files.writeString(folder.resolve("train.log"), "epoch 1 loss 0.7\n");
        Files.write(folder.resolve("loss_curve.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.createDirectories(folder.resolve("plots/roc"));
        Files.writeString(folder.resolve("plots/roc/test.svg"), "<svg/>");
        Files.createDirectories(folder.resolve("checkpoints"));
        Files.writeString(folder.resolve("checkpoints/epoch1.pt"), "weights");
        Files.writeString(folder.resolve(".DS_Store"), "junk");
        Files.createDirectories(folder.resolve(".ipynb_checkpoints"));
        Files.writeString(folder.resolve(".ipynb_checkpoints/x"), "junk");
        registry = LocalRegistry.open(tmp.resolve("models"));
    }

    @Test
    void everyFileIsKeptUnderItsRelativePathExceptHiddenAndExcludedOnes() throws IOException {
        ModelManifest m = registry.register(Registration.fromFolder("churn", folder, List.of("*.pt", "plots/roc/*.svg")).build(), READER);
        List<String> artifacts = m.artifacts().stream().map(FileEntry::path).toList();
        assertTrue(artifacts.containsAll(List.of("train.log", "loss_curve.png", "training_log.txt", "confusion_matrix.png")), artifacts.toString());
        assertFalse(artifacts.stream().anyMatch(a -> a.endsWith(".pt") || a.endsWith(".svg") || a.startsWith(".")), artifacts.toString());
        Path v1 = registry.versionDir("churn", 1);
        for (FileEntry f : m.artifacts()) {
            assertEquals(AtomicFiles.sha256(folder.resolve(f.path())), AtomicFiles.sha256(v1.resolve(f.path())), f.path());
        }
        assertTrue(registry.verify("churn").ok());

        // without excludes the nested files are kept under their paths
        ModelManifest all = registry.register(Registration.fromFolder("all", folder).build(), READER);
        List<String> kept = all.artifacts().stream().map(FileEntry::path).toList();
        assertTrue(kept.containsAll(List.of("plots/roc/test.svg", "checkpoints/epoch1.pt")), kept.toString());
        assertEquals("<svg/>", Files.readString(registry.versionDir("all", 1).resolve("plots/roc/test.svg")));
        // a folder name excludes everything under it
        ModelManifest noCheckpoints = registry.register(Registration.fromFolder("nock", folder, List.of("checkpoints")).build(), READER);
        assertTrue(noCheckpoints.artifacts().stream().noneMatch(f -> f.path().startsWith("checkpoints")));
    }

    @Test
    void aReservedNameInTheFolderIsRefusedAndNothingIsWritten() throws IOException {
        Files.createDirectories(folder.resolve("monitoring"));
        Files.writeString(folder.resolve("monitoring/old.json"), "{}");
        Map<String, String> before = TreeSnapshot.of(tmp);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> registry.register(Registration.fromFolder("churn", folder).build(), READER));
        assertTrue(e.getMessage().contains("monitoring/old.json") && e.getMessage().contains("--exclude"), e.getMessage());
        assertEquals(before, TreeSnapshot.of(tmp));
        assertEquals(1, registry.register(Registration.fromFolder("churn", folder, List.of("monitoring")).build(), READER).version());
    }

    @Test
    void identicalContentIsRefusedNamingTheExistingVersionUnlessAllowed() throws IOException {
        registry.register(Registration.fromFolder("churn", folder).build(), READER);
        Files.writeString(folder.resolve("train.log"), "epoch 1 loss 0.6\n");
        assertEquals(2, registry.register(Registration.fromFolder("churn", folder).build(), READER).version());

        Map<String, String> before = TreeSnapshot.of(tmp);
        DuplicateVersionException dup = assertThrows(DuplicateVersionException.class,
                () -> registry.register(Registration.fromFolder("churn", folder).tag("again", "yes").build(), READER));
        assertEquals(2, dup.existingVersion());
        assertTrue(dup.getMessage().contains("churn:2"), dup.getMessage());
        assertEquals(before, TreeSnapshot.of(tmp), "a refused duplicate writes nothing");

        assertEquals(3, registry.register(Registration.fromFolder("churn", folder).allowDuplicate(true).build(), READER).version());
        // the same files under another model name are not a duplicate of this model
        assertEquals(1, registry.register(Registration.fromFolder("other", folder).build(), READER).version());
    }

    @Test
    void deletingTheLastVersionRemovesTheModelButNotItsNumbering() throws IOException {
        registry.register(Registration.fromFolder("churn", folder).alias("production").description("d").build(), READER);
        registry.register(Registration.fromFolder("other", folder).build(), READER);
        registry.deleteVersion("churn", 1, true);
        assertEquals(List.of("other"), registry.models(), "no empty model row is left");
        assertFalse(registry.exists("churn"));
        assertThrows(ModelNotFoundException.class, () -> registry.info("churn"));
        assertEquals(2, registry.register(Registration.fromFolder("churn", folder).build(), READER).version(),
                "a deleted number is not handed out again");
        assertEquals("", registry.info("churn").description(), "the deleted model's description and aliases went with it");
        assertTrue(registry.aliases("churn").isEmpty());
    }

    @Test
    void aFailureWhileDeletingTheLastVersionLeavesTheModelAsItWas() {
        registry.register(Registration.fromFolder("churn", folder).alias("production").build(), READER);
        Map<String, String> before = TreeSnapshot.of(tmp);
        registry.writeHook((step, path) -> {
            if (step == RegistryWriter.Step.MOVED) {
                throw new IOException("disk full");
            }
        });
        assertThrows(RegistryException.class, () -> registry.deleteVersion("churn", 1, true));
        assertEquals(before, TreeSnapshot.of(tmp));
        assertEquals(List.of("churn"), registry.models());
    }
}
