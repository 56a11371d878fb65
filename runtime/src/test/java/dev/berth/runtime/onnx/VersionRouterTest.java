package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.registry.WeightedVersion;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.ModelState;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Alias routing on published views, in plain Java: the loaded copies are strings naming the version. */
class VersionRouterTest {
    static final Fingerprint FILES = new Fingerprint(1, 1, 1, 1);

    static VersionSlot<String> ready(int v) {
        return new VersionSlot<>(v, ModelState.READY, "", "copy-" + v, FILES, ServingConfig.defaults(), false);
    }

    static VersionSlot<String> failed(int v, String reason) {
        return new VersionSlot<>(v, ModelState.UNAVAILABLE, reason, null, FILES, ServingConfig.defaults(), true);
    }

    static Map<String, ModelView<String>> views(ModelInfo info, List<VersionSlot<String>> slots) {
        TreeMap<Integer, VersionSlot<String>> versions = new TreeMap<>();
        for (VersionSlot<String> s : slots) {
            versions.put(s.version(), s);
        }
        return Map.of(info.name(), new ModelView<>(info.name(), info, FILES, versions));
    }

    static ModelInfo info(String name) {
        return new ModelInfo(name, "", Map.of(), VersionPolicy.all(), ServingConfig.defaults());
    }

    @Test
    void noVersionMeansTheHighestReadyOneWithoutAProductionAlias() {
        var views = views(info("m"), List.of(ready(1), ready(2), failed(3, "broken")));
        VersionRouter.Route<String> route = VersionRouter.route(views, "m", null, new Random(1));
        assertEquals(2, route.version());
        assertEquals("copy-2", route.runner());
        assertEquals(2, VersionRouter.route(views, "m", "", new Random(1)).version());
    }

    @Test
    void noVersionFollowsTheProductionAlias() {
        var views = views(info("m").withAlias(ModelInfo.PRODUCTION, AliasTarget.single(1)), List.of(ready(1), ready(2)));
        assertEquals(1, VersionRouter.route(views, "m", null, new Random(1)).version());
    }

    @Test
    void aWeightedAliasDrawsByWeightAmongReadyTargets() {
        ModelInfo info = info("m").withAlias("canary", new AliasTarget(List.of(new WeightedVersion(1, 90), new WeightedVersion(2, 10))));
        var views = views(info, List.of(ready(1), ready(2)));
        Random random = new Random(42);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            counts.merge(VersionRouter.route(views, "m", "canary", random).version(), 1, Integer::sum);
        }
        assertTrue(counts.get(1) > 8_700 && counts.get(1) < 9_300, "about 90 %: " + counts);
        assertTrue(counts.get(2) > 700 && counts.get(2) < 1_300, "about 10 %: " + counts);

        var oneDown = views(info, List.of(ready(1), failed(2, "broken")));
        for (int i = 0; i < 100; i++) {
            assertEquals(1, VersionRouter.route(oneDown, "m", "canary", random).version(), "only ready targets are drawn");
        }
    }

    @Test
    void anAliasWithNoReadyTargetIsUnavailableWithTheReasons() {
        ModelInfo info = info("m").withAlias("canary", AliasTarget.single(2));
        var views = views(info, List.of(ready(1), failed(2, "warm-up failed")));
        var e = assertThrows(InferenceException.Unavailable.class, () -> VersionRouter.route(views, "m", "canary", new Random(1)));
        assertEquals("model 'm' alias 'canary' points at version(s) [2], none of them ready (2 UNAVAILABLE: warm-up failed)", e.getMessage());
    }

    @Test
    void aNumberNamesThatVersionAndUnknownNamesAreNotFound() {
        var views = views(info("m").withAlias("canary", AliasTarget.single(1)), List.of(ready(1), failed(2, "broken")));
        assertEquals(1, VersionRouter.route(views, "m", "1", new Random(1)).version());
        var down = assertThrows(InferenceException.Unavailable.class, () -> VersionRouter.route(views, "m", "2", new Random(1)));
        assertEquals("model 'm' version 2 is UNAVAILABLE: broken", down.getMessage());
        var noVersion = assertThrows(InferenceException.NotFound.class, () -> VersionRouter.route(views, "m", "7", new Random(1)));
        assertEquals("model 'm' has no version 7 (versions: [1, 2])", noVersion.getMessage());
        var noAlias = assertThrows(InferenceException.NotFound.class, () -> VersionRouter.route(views, "m", "beta", new Random(1)));
        assertEquals("model 'm' has no version or alias 'beta' (versions: [1, 2], aliases: [canary])", noAlias.getMessage());
        assertThrows(InferenceException.NotFound.class, () -> VersionRouter.route(views, "m", " ", new Random(1)),
                "a blank segment names nothing");
        assertThrows(InferenceException.NotFound.class, () -> VersionRouter.route(views, "other", null, new Random(1)));
        assertThrows(InferenceException.NotFound.class, () -> VersionRouter.route(views, null, null, new Random(1)));
    }

    @Test
    void aModelWithNothingReadyIsUnavailable() {
        var views = views(info("m"), List.of(failed(1, "broken")));
        var e = assertThrows(InferenceException.Unavailable.class, () -> VersionRouter.route(views, "m", null, new Random(1)));
        assertEquals("model 'm' has no version ready (1 UNAVAILABLE: broken)", e.getMessage());
        assertEquals(List.of(), VersionRouter.readyVersions(views.get("m")));
    }
}
