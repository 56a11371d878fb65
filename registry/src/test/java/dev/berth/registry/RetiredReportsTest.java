package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deleted version's monitoring reports stay readable, and a server's last window for it still lands. */
class RetiredReportsTest {
    @TempDir
    Path tmp;

    @Test
    void reportsOutliveTheirVersion() throws Exception {
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("churn"));
        LocalRegistry registry = LocalRegistry.open(tmp.resolve("models"));
        Registration.Builder reg = Registration.builder("churn", churn.resolve("model.onnx")).allowDuplicate(true);
        registry.register(reg.build(), RegistryWriteTest.READER);
        registry.register(reg.build(), RegistryWriteTest.READER);
        registry.writeMonitoringReport("churn", 2, "w1.json", "{\"w\":1}".getBytes(StandardCharsets.UTF_8));
        registry.writeMonitoringReport("churn", 2, "w2.json", "{\"w\":2}".getBytes(StandardCharsets.UTF_8));

        registry.writePerfReport("churn", 2, "20261207T120000Z.json", "{}".getBytes(StandardCharsets.UTF_8));
        registry.deleteVersion("churn", 2, false);
        assertEquals(List.of("20261207T120000Z.json"), names(registry.perfReports("churn", 2)), "its perf reports are kept too");
        assertEquals(List.of(1), registry.versions("churn"));
        assertFalse(Files.exists(registry.versionDir("churn", 2)), "the version is gone");
        assertTrue(registry.hasRetiredReports("churn", 2));
        assertEquals(List.of("w1.json", "w2.json"), names(registry.monitoringReports("churn", 2)), "its reports are kept");

        // a server that served version 2 until the delete writes its last window afterwards
        registry.writeMonitoringReport("churn", 2, "w3.json", "{\"w\":3}".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("w1.json", "w2.json", "w3.json"), names(registry.monitoringReports("churn", 2)));
        assertEquals(List.of(1), registry.versions("churn"), "a retired folder is no version");

        // deleting the last version keeps its reports too, and the model leaves the list
        registry.writeMonitoringReport("churn", 1, "v1.json", "{}".getBytes(StandardCharsets.UTF_8));
        registry.deleteVersion("churn", 1, true);
        assertFalse(registry.models().contains("churn"));
        assertEquals(List.of("v1.json"), names(registry.monitoringReports("churn", 1)));
        assertTrue(registry.verify().ok(), "verify is not upset by retired reports");
    }

    private static List<String> names(List<Path> files) {
        return files.stream().map(p -> p.getFileName().toString()).toList();
    }
}
