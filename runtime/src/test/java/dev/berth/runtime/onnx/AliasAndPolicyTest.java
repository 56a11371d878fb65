package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.VersionPolicy;
import dev.berth.registry.WeightedVersion;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Version resolution: numbers, aliases, weighted splits, the default version and version policies. */
class AliasAndPolicyTest {
    @TempDir
    Path root;

    static InferenceRequest churn(String version) {
        return new InferenceRequest("churn", version, null, List.of(ValidationTest.features(1, 8)), List.of(), Map.of());
    }

    @Test
    void withoutProductionAliasTheHighestReadyVersionAnswers() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "churn", 2, "churn");
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertEquals(2, service.infer(churn(null)).version());
            assertEquals(1, service.infer(churn("1")).version());
            assertEquals(List.of("1", "2"), service.modelMetadata("churn", null).versions());
        }
    }

    @Test
    void weightedAliasSplitsTrafficByWeight() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "churn", 2, "churn");
        TestModels.addVersion(root, "churn", 3, "churn");
        TestModels.writeInfo(root, ModelInfo.empty("churn")
                .withAlias(ModelInfo.PRODUCTION, new AliasTarget(List.of(new WeightedVersion(1, 75), new WeightedVersion(2, 25))))
                .withAlias("canary", AliasTarget.single(3)));
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            int n = 4000;
            int[] counts = new int[4];
            for (int i = 0; i < n; i++) {
                counts[service.infer(churn(i % 2 == 0 ? null : "production")).version()]++;
            }
            assertEquals(0, counts[3], "version 3 is not in the split");
            double share2 = counts[2] / (double) n;
            // 25 % expected; with n = 4000 the standard deviation is 0.7 %, so 20..30 % cannot fail by chance
            assertTrue(share2 > 0.20 && share2 < 0.30, "version 2 got " + share2 + " of the traffic: " + java.util.Arrays.toString(counts));
            assertEquals(3, service.infer(churn("canary")).version());
            assertTrue(service.modelReady("churn", "production"));
        }
    }

    @Test
    void aSplitSendsEverythingToTheReadyVersionsWhenOneIsNotLoaded() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "churn", 2, "churn");
        TestModels.writeInfo(root, new ModelInfo("churn", "", Map.of(ModelInfo.PRODUCTION,
                new AliasTarget(List.of(new WeightedVersion(1, 50), new WeightedVersion(2, 50)))),
                VersionPolicy.specific(List.of(2)), null));
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            for (int i = 0; i < 50; i++) {
                assertEquals(2, service.infer(churn(null)).version());
            }
            var e = assertThrows(InferenceException.Unavailable.class, () -> service.infer(churn("1")));
            assertTrue(e.getMessage().contains("not selected by the version policy"), e.getMessage());
            assertEquals(java.util.OptionalInt.empty(), e.resolvedVersion(), "a version the policy left out answered nothing");
            assertFalse(service.modelReady("churn", "1"));
        }
    }

    @Test
    void latestPolicyLoadsOnlyTheNewestVersions() throws Exception {
        for (int v = 1; v <= 3; v++) {
            TestModels.addVersion(root, "churn", v, "churn");
        }
        TestModels.writeInfo(root, new ModelInfo("churn", "", Map.of(), VersionPolicy.latest(2), null));
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertEquals(List.of(new ModelStatus("churn", 1, ModelState.UNAVAILABLE, "not selected by the version policy"),
                    new ModelStatus("churn", 2, ModelState.READY, ""),
                    new ModelStatus("churn", 3, ModelState.READY, "")), service.repositoryIndex());
            assertEquals(List.of("2", "3"), service.modelMetadata("churn", "2").versions());
        }
    }

    @Test
    void modelsToLoadLimitsTheStartAndLoadUnloadChangeIt() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "strings", 1, "strings");
        RecordingObserver observer = new RecordingObserver();
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ofMillis(20)).modelsToLoad(List.of("churn")).observer(observer))) {
            assertTrue(service.ready());
            assertEquals(new ModelStatus("strings", 1, ModelState.UNAVAILABLE, "not loaded"), service.repositoryIndex().get(1));
            assertFalse(service.modelReady("strings", null));
            var textRequest = new InferenceRequest("strings", null, null,
                    List.of(dev.berth.runtime.Tensor.ofBytes("text", new long[] {1}, List.of("cat".getBytes()))), List.of(), Map.of());
            assertThrows(InferenceException.Unavailable.class, () -> service.infer(textRequest));

            service.load("strings");
            assertTrue(service.modelReady("strings", null));
            assertEquals(1, service.infer(textRequest).outputs().size());

            service.unload("churn");
            assertTrue(observer.unloads.contains("churn:1"), "unload waited for the session to close: " + observer.unloads);
            assertFalse(service.modelReady("churn", null));
            Thread.sleep(200); // several registry polls: neither the unload nor the explicit load is undone
            assertFalse(service.modelReady("churn", null));
            assertTrue(service.modelReady("strings", null));
            assertThrows(InferenceException.Unavailable.class, () -> service.infer(churn(null)));
            assertEquals(new ModelStatus("churn", 1, ModelState.UNAVAILABLE, "unloaded"), service.repositoryIndex().get(0));

            service.load("churn");
            assertEquals(1, service.infer(churn(null)).version());
            assertThrows(InferenceException.NotFound.class, () -> service.load("nope"));
            assertThrows(InferenceException.NotFound.class, () -> service.unload("nope"));
        }
    }
}
