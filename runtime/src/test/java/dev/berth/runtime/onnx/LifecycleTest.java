package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Load failures, hot reload under traffic, and graceful shutdown. */
class LifecycleTest {
    @TempDir
    Path root;

    static InferenceRequest churn(String version) {
        return AliasAndPolicyTest.churn(version);
    }

    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aModelThatFailsToLoadLeavesTheOthersServing() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        Path broken = root.resolve("broken").resolve("1");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("model.onnx"), "this is not an onnx model");
        RecordingObserver observer = new RecordingObserver();
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ofMillis(50)).observer(observer).strictReadiness(false))) {
            assertTrue(service.ready(), "lenient readiness: one broken model does not hold back readiness");
            ModelStatus status = service.repositoryIndex().get(0);
            assertEquals("broken", status.name());
            assertEquals(ModelState.UNAVAILABLE, status.state());
            assertTrue(status.reason().startsWith("failed to load"), status.reason());
            assertFalse(service.modelReady("broken", null));
            var e = assertThrows(InferenceException.Unavailable.class, () -> service.infer(new InferenceRequest("broken", null, null,
                    List.of(ValidationTest.features(1, 8)), List.of(), Map.of())));
            assertTrue(e.getMessage().contains("failed to load"), e.getMessage());
            assertEquals(java.util.OptionalInt.empty(), e.resolvedVersion(), "a version that failed to load answered nothing");
            assertEquals(1, service.infer(churn(null)).version());
            assertTrue(observer.loads.stream().anyMatch(l -> l.model().equals("broken") && l.failure() != null));
            assertThrows(InferenceException.Unavailable.class, () -> service.load("broken"));

            // a fixed file is noticed and loaded without a restart
            Files.copy(root.resolve("churn/1/model.onnx"), broken.resolve("model.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            eventually("the repaired model is ready", () -> service.modelReady("broken", null));
        }
        try (var strict = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).strictReadiness(true))) {
            assertTrue(strict.ready(), "strict readiness with every model loadable");
        }
        Files.writeString(root.resolve("broken/1/model.onnx"), "broken again");
        try (var strict = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO))) {
            assertFalse(strict.ready(), "strict readiness (the default) waits for every model");
            String reason = strict.notReadyReason().orElseThrow();
            assertTrue(reason.startsWith("model 'broken' version 1 failed to load"), reason);
            assertEquals(1, strict.infer(churn(null)).version());
        }
    }

    @Test
    void strictReadinessIsFalseWithNothingServedUnlessEmptyIsAllowed() throws Exception {
        try (var empty = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertFalse(empty.ready(), "an empty registry is not ready");
            assertTrue(empty.notReadyReason().orElseThrow().contains("holds no model"), empty.notReadyReason().toString());
        }
        try (var empty = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).allowEmpty(true))) {
            assertTrue(empty.ready(), "allowEmpty: an empty registry is ready");
        }
        TestModels.addVersion(root, "churn", 1, "churn");
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertTrue(service.ready());
            service.unload("churn");
            assertFalse(service.ready(), "the only model unloaded: nothing is served");
            assertEquals("no model version is loaded", service.notReadyReason().orElseThrow());
            service.load("churn");
            assertTrue(service.ready(), "loaded again");
        }
    }

    @Test
    void hotReloadUnderTrafficFailsNoRequest() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        RecordingObserver observer = new RecordingObserver();
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ofMillis(30)).observer(observer))) {
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Map<Integer, AtomicInteger> lastSeen = new ConcurrentHashMap<>();
            AtomicInteger latest = new AtomicInteger();
            AtomicInteger requests = new AtomicInteger();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    running.add(clients.submit(() -> {
                        while (!stop.get()) {
                            try {
                                InferenceResponse r = service.infer(churn(null));
                                latest.set(r.version());
                                lastSeen.computeIfAbsent(r.version(), k -> new AtomicInteger()).incrementAndGet();
                                requests.incrementAndGet();
                            } catch (Throwable t) {
                                failures.add(t);
                            }
                        }
                    }));
                }
                eventually("traffic flows", () -> requests.get() > 20);

                TestModels.addVersion(root, "churn", 2, "churn");
                eventually("version 2 answers by default", () -> latest.get() == 2);

                TestModels.writeInfo(root, ModelInfo.empty("churn").withAlias(ModelInfo.PRODUCTION, AliasTarget.single(1)));
                eventually("the production alias sends traffic back to 1", () -> seenOnly(latest, 1, requests));

                TestModels.deleteVersion(root, "churn", 2);
                eventually("version 2 is gone from the index", () ->
                        service.repositoryIndex().stream().noneMatch(s -> s.version() == 2));

                // a per-model serving change reloads the version in place
                TestModels.writeInfo(root, new ModelInfo("churn", "", Map.of(ModelInfo.PRODUCTION, AliasTarget.single(1)),
                        VersionPolicy.all(), ServingConfig.builder().sessions(2).build()));
                eventually("version 1 was reloaded with two sessions", () -> observer.unloads.stream().filter("churn:1"::equals).count() == 1);

                TestModels.addVersion(root, "churn", 3, "churn");
                TestModels.writeInfo(root, ModelInfo.empty("churn").withAlias(ModelInfo.PRODUCTION, AliasTarget.single(3)));
                eventually("the alias moved to 3", () -> seenOnly(latest, 3, requests));
                TestModels.deleteVersion(root, "churn", 1);
                eventually("version 1 is gone from the index", () ->
                        service.repositoryIndex().stream().noneMatch(s -> s.version() == 1));
                int before = requests.get();
                eventually("traffic still flows", () -> requests.get() > before + 20);
                stop.set(true);
                for (Future<?> f : running) {
                    f.get();
                }
            }
            assertTrue(failures.isEmpty(), "no request failed during reloads: " + failures.stream().limit(3).toList());
            assertTrue(observer.reloads.get() >= 5, "registry reloads reported: " + observer.reloads.get());
            assertTrue(observer.unloads.contains("churn:2"), "version 2 was unloaded: " + observer.unloads);
            // 1 was replaced twice (serving config changed, then changed back) and deleted: three sessions sets closed
            eventually("version 1's last sessions closed", () -> observer.unloads.stream().filter("churn:1"::equals).count() == 3);
            assertEquals(List.of(new ModelStatus("churn", 3, ModelState.READY, "")), service.repositoryIndex());
            assertTrue(lastSeen.keySet().containsAll(List.of(1, 2, 3)), "answered by " + lastSeen.keySet());
        }
    }

    private static boolean seenOnly(AtomicInteger latest, int version, AtomicInteger requests) {
        // the last answers (a few in a row) all came from the expected version
        if (latest.get() != version) {
            return false;
        }
        int start = requests.get();
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (requests.get() < start + 10 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return latest.get() == version;
    }

    @Test
    void closeFinishesWorkInFlightAndRefusesNewWork() throws Exception {
        TestModels.addVersion(root, "slow", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("slow", "", Map.of(), VersionPolicy.all(),
                ServingConfig.builder().sessions(1).dynamicBatching(false).build()));
        RecordingObserver observer = new RecordingObserver();
        var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).observer(observer));
        int callers = 32;
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < callers; c++) {
                clients.submit(() -> {
                    try {
                        service.infer(new InferenceRequest("slow", null, null,
                                List.of(TestModels.fp32("x", new long[] {64, 256}, new float[64 * 256])), List.of(), Map.of()));
                        ok.incrementAndGet();
                    } catch (InferenceException.Unavailable e) {
                        refused.incrementAndGet();
                    } catch (Throwable t) {
                        unexpected.add(t);
                    }
                });
            }
            eventually("some requests ran", () -> ok.get() > 0);
            service.close();
            assertFalse(service.ready());
            assertFalse(service.live());
            assertThrows(InferenceException.Unavailable.class, () -> service.infer(new InferenceRequest("slow", null, null,
                    List.of(TestModels.fp32("x", new long[] {1, 256}, new float[256])), List.of(), Map.of())));
        }
        assertTrue(unexpected.isEmpty(), "only clean answers or refusals: " + unexpected);
        assertEquals(callers, ok.get() + refused.get());
        assertTrue(observer.unloads.contains("slow:1"));
        assertEquals(ok.get(), observer.completed.get(), "every accepted request completed");
    }
}
