package dev.berth.runtime.onnx;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A served model.onnx overwritten with garbage (issue 10): the loaded copy keeps serving, and every
 * view of the version tells the same story: the index and an explicit load give the reason, the
 * observer (berth_model_ready, load failures) hears it once, the log says it once however many polls
 * pass, and a repaired file is loaded again.
 */
class ReloadRefusedTest {
    @TempDir
    Path root;

    @Test
    void aServedModelOverwrittenWithGarbageKeepsServingAndSaysSoOnce() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        Path file = root.resolve("churn/1/model.onnx");
        byte[] good = Files.readAllBytes(file);
        RecordingObserver observer = new RecordingObserver();
        ConcurrentLinkedQueue<String> warnings = new ConcurrentLinkedQueue<>();
        Logger log = Logger.getLogger(ModelLifeCycle.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ofMillis(50)).observer(observer))) {
            assertEquals(1, service.infer(LifecycleTest.churn(null)).version());

            Files.writeString(file, "this is not an onnx model any more");
            LifecycleTest.eventually("the reload is refused", () -> !observer.refusedReloads.isEmpty());
            Thread.sleep(600); // a dozen polls: none may try, or log, the same files again

            ModelStatus status = service.repositoryIndex().get(0);
            assertEquals(ModelState.READY, status.state(), "the loaded copy still serves");
            assertTrue(status.reason().startsWith(ReloadPlan.RELOAD_REFUSED), status.reason());
            assertTrue(status.reason().contains("failed to load") || status.reason().contains("protobuf")
                    || status.reason().contains("parse"), "the reason ONNX Runtime gave: " + status.reason());
            assertTrue(service.modelReady("churn", null));
            assertTrue(service.modelReady("churn", "1"));
            assertEquals(1, service.infer(LifecycleTest.churn("1")).version(), "the old session answers");
            assertEquals(1, observer.refusedReloads.size(), "told once: " + observer.refusedReloads);
            assertTrue(observer.loads.stream().noneMatch(l -> l.failure() != null), "never reported as a failed first load");
            List<String> aboutChurn = warnings.stream().filter(w -> w.contains("churn")).toList();
            assertEquals(1, aboutChurn.size(), "one log line: " + aboutChurn);

            // an explicit load tries again and answers the reason instead of success
            var e = assertThrows(InferenceException.Unavailable.class, () -> service.load("churn"));
            assertTrue(e.getMessage().contains("the changed model file was refused"), e.getMessage());
            assertEquals(1, service.infer(LifecycleTest.churn(null)).version());

            // repaired: loaded again, the story ends
            Files.write(file, good);
            LifecycleTest.eventually("the repaired file is loaded", () -> service.repositoryIndex().get(0).reason().isEmpty());
            assertEquals(1, service.infer(LifecycleTest.churn(null)).version());
        } finally {
            log.removeHandler(capture);
        }
    }

    /** After a restart the broken version cannot serve: a split alias sends all its traffic to the other target. */
    @Test
    void anAliasNeverRoutesToABrokenTargetWhileAnotherServes() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "churn", 2, "churn");
        Files.writeString(root.resolve("churn/1/model.onnx"), "truncated");
        TestModels.writeInfo(root, dev.berth.registry.ModelInfo.empty("churn").withAlias(dev.berth.registry.ModelInfo.PRODUCTION,
                new dev.berth.registry.AliasTarget(List.of(new dev.berth.registry.WeightedVersion(1, 90),
                        new dev.berth.registry.WeightedVersion(2, 10)))));
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            for (int i = 0; i < 200; i++) {
                assertEquals(2, service.infer(LifecycleTest.churn(i % 2 == 0 ? null : "production")).version());
            }
            var e = assertThrows(InferenceException.Unavailable.class, () -> service.infer(LifecycleTest.churn("1")));
            assertTrue(e.getMessage().contains("failed to load"), e.getMessage());
        }
    }
}
