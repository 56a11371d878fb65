package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LocalRegistry#importVersion}: a version made elsewhere, under its own number, all or nothing. */
class ImportVersionTest {
    @TempDir
    Path tmp;

    private LocalRegistry source() {
        LocalRegistry source = LocalRegistry.open(tmp.resolve("source"));
        Path sample = Samples.copy(Samples.CHURN, tmp.resolve("sample"));
        source.register(Registration.fromFolder("churn", sample).build(), RegistryWriteTest.READER);
        try {
            Files.writeString(sample.resolve("training_log.txt"), "retrained\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        source.register(Registration.fromFolder("churn", sample).build(), RegistryWriteTest.READER);
        return source;
    }

    private static LocalRegistry.FileFetcher from(LocalRegistry source, int version) {
        return (entry, target) -> Files.copy(source.versionDir("churn", version).resolve(entry.path()), target);
    }

    private static byte[] manifest(LocalRegistry source, int version) throws IOException {
        return Files.readAllBytes(source.versionDir("churn", version).resolve(LocalRegistry.MANIFEST_FILE));
    }

    @Test
    void importsUnderItsOwnNumberAndTheSameVersionAgainIsANoOp() throws IOException {
        LocalRegistry source = source();
        LocalRegistry target = LocalRegistry.open(tmp.resolve("target"));
        LocalRegistry.ImportResult r = target.importVersion(manifest(source, 2), from(source, 2), List.of("production"));
        assertTrue(r.imported());
        assertEquals(List.of(2), target.versions("churn"));
        assertEquals(2, target.aliases("churn").get("production").primaryVersion());
        assertTrue(target.verify().ok());
        Map<String, String> before = TreeSnapshot.of(target.root());
        assertFalse(target.importVersion(manifest(source, 2), (e, t) -> {
            throw new AssertionError("nothing is fetched for a version already here");
        }, List.of()).imported());
        assertEquals(before, TreeSnapshot.of(target.root()));
        // numbering continues after the imported version
        Path sample = tmp.resolve("sample");
        assertEquals(3, target.register(Registration.fromFolder("churn", sample).allowDuplicate(true).build(), RegistryWriteTest.READER).version());
    }

    @Test
    void aFileThatDoesNotMatchItsHashLeavesNothing() throws IOException {
        LocalRegistry source = source();
        LocalRegistry target = LocalRegistry.open(tmp.resolve("target"));
        target.importVersion(manifest(source, 1), from(source, 1), List.of());
        Map<String, String> before = TreeSnapshot.of(target.root());
        RegistryException e = assertThrows(RegistryException.class, () -> target.importVersion(manifest(source, 2), (entry, t) -> {
            Files.copy(source.versionDir("churn", 2).resolve(entry.path()), t);
            if (entry.path().equals("metrics.json")) {
                Files.writeString(t, "{}", StandardCharsets.UTF_8);
            }
        }, List.of("production")));
        assertTrue(e.getMessage().contains("metrics.json"), e.getMessage());
        assertEquals(before, TreeSnapshot.of(target.root()), "no version 2, no alias, no staging folder");
    }

    @Test
    void refusesPathsOutsideTheVersionAndAnotherVersionUnderTheSameNumber() throws IOException {
        LocalRegistry source = source();
        LocalRegistry target = LocalRegistry.open(tmp.resolve("target"));
        String evil = new String(manifest(source, 1), StandardCharsets.UTF_8).replace("\"path\" : \"metrics.json\"", "\"path\" : \"../../evil.json\"");
        assertTrue(evil.contains("../../evil.json"));
        assertThrows(InvalidArgumentException.class, () -> target.importVersion(evil.getBytes(StandardCharsets.UTF_8), from(source, 1), List.of()));
        assertFalse(Files.exists(tmp.resolve("evil.json")));

        target.importVersion(manifest(source, 1), from(source, 1), List.of());
        byte[] other = new String(manifest(source, 2), StandardCharsets.UTF_8).replace("\"version\" : 2", "\"version\" : 1").getBytes(StandardCharsets.UTF_8);
        InvalidArgumentException clash = assertThrows(InvalidArgumentException.class, () -> target.importVersion(other, from(source, 2), List.of()));
        assertTrue(clash.getMessage().contains("other content"), clash.getMessage());
        assertThrows(InvalidArgumentException.class, () -> target.importVersion("{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8), from(source, 1), List.of()));
    }
}
