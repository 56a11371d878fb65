package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.ModelState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot-reload plan in plain Java: registry scans and published views go in, the loads, the
 * views to publish and the copies to retire come out. Loaded copies are strings.
 */
class ReloadPlanTest {
    static final Fingerprint OLD = new Fingerprint(10, 1, 5, 1);
    static final Fingerprint NEW = new Fingerprint(11, 2, 5, 1);
    static final Fingerprint INFO = new Fingerprint(1, 1, -1, -1);
    static final ServingConfig CONFIG = ServingConfig.defaults();
    final List<String> configsAsked = new ArrayList<>();

    ReloadPlan.ServingConfigs configs = (model, version, info) -> {
        configsAsked.add(model + ":" + version);
        return info.servingFor(null);
    };

    static ModelInfo info(String name) {
        return new ModelInfo(name, "", Map.of(), VersionPolicy.all(), CONFIG);
    }

    static ReloadPlan.ModelScan scan(ModelInfo info, Map<Integer, Fingerprint> versions) {
        return new ReloadPlan.ModelScan(info.name(), info, INFO, new TreeMap<>(versions));
    }

    static VersionSlot<String> serving(int v, Fingerprint files) {
        return new VersionSlot<>(v, ModelState.READY, "", "copy-" + v, files, CONFIG, false);
    }

    static ModelView<String> view(ModelInfo info, VersionSlot<String>... slots) {
        TreeMap<Integer, VersionSlot<String>> versions = new TreeMap<>();
        for (VersionSlot<String> s : slots) {
            versions.put(s.version(), s);
        }
        return new ModelView<>(info.name(), info, INFO, versions);
    }

    ReloadPlan<String> plan(Map<String, ReloadPlan.ModelScan> scans, Map<String, ModelView<String>> current, boolean retryFailed,
                            Set<String> unloaded) {
        Set<String> names = new java.util.TreeSet<>(scans.keySet());
        names.addAll(current.keySet());
        return ReloadPlan.plan(names, scans, current, m -> !unloaded.contains(m), unloaded::contains, retryFailed, configs);
    }

    static <R> ReloadPlan.LoadResult<R> loaded(ReloadPlan.LoadTask task, R copy) {
        return new ReloadPlan.LoadResult<>(task, copy, null);
    }

    @Test
    void aNewModelLoadsEveryVersionAndShowsThemLoadingMeanwhile() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(1, OLD, 2, OLD))), Map.of(), false, Set.of());
        assertTrue(plan.changed());
        assertEquals(List.of(1, 2), plan.loads().stream().map(ReloadPlan.LoadTask::version).toList());
        assertFalse(plan.loads().get(0).replacing());
        assertEquals(ModelState.LOADING, plan.interim().get("m").versions().get(1).state());

        Map<Integer, ReloadPlan.LoadResult<String>> results = Map.of(
                1, loaded(plan.loads().get(0), "copy-1"),
                2, new ReloadPlan.LoadResult<>(plan.loads().get(1), null, "failed to load: bad file"));
        ReloadPlan.Settled<String> settled = plan.settle("m", results);
        assertEquals(ModelState.READY, settled.view().versions().get(1).state());
        assertEquals("copy-1", settled.view().versions().get(1).runner());
        VersionSlot<String> two = settled.view().versions().get(2);
        assertEquals(ModelState.UNAVAILABLE, two.state());
        assertEquals("failed to load: bad file", two.reason());
        assertTrue(two.failed());
        assertEquals(List.of(), settled.retire());
    }

    @Test
    void nothingChangedPlansNothingAndReadsNoServingConfig() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(1, OLD))), Map.of("m", view(info, serving(1, OLD))), false, Set.of());
        assertFalse(plan.changed());
        assertEquals(List.of(), plan.loads());
        assertEquals(List.of(), configsAsked, "an unchanged version keeps the config it was loaded with");
        assertEquals(List.of(), plan.settle("m", Map.of()).retire());
    }

    @Test
    void replacedFilesLoadBesideTheServingCopyWhichRetiresOnlyAfterPublishing() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(1, NEW))), Map.of("m", view(info, serving(1, OLD))), false, Set.of());
        assertEquals(1, plan.loads().size());
        assertTrue(plan.loads().get(0).replacing());
        assertEquals("copy-1", plan.interim().get("m").versions().get(1).runner(), "the old copy serves while the new one loads");

        ReloadPlan.Settled<String> settled = plan.settle("m", Map.of(1, loaded(plan.loads().get(0), "copy-1b")));
        assertEquals("copy-1b", settled.view().versions().get(1).runner());
        assertEquals(NEW, settled.view().versions().get(1).fingerprint());
        assertEquals(List.of("copy-1"), settled.retire().stream().map(VersionSlot::runner).toList());
    }

    @Test
    void aRefusedReplacementKeepsTheOldCopyServingAndIsNotTriedAgainWithTheSameFiles() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(1, NEW))), Map.of("m", view(info, serving(1, OLD))), false, Set.of());
        ReloadPlan.Settled<String> settled = plan.settle("m",
                Map.of(1, new ReloadPlan.LoadResult<>(plan.loads().get(0), null, "not a model")));
        VersionSlot<String> slot = settled.view().versions().get(1);
        assertEquals(ModelState.READY, slot.state());
        assertEquals("copy-1", slot.runner());
        assertEquals(ReloadPlan.RELOAD_REFUSED + "not a model", slot.reason());
        assertEquals(List.of(), settled.retire());
        assertEquals(1, settled.refused().size());

        ReloadPlan<String> next = plan(Map.of("m", scan(info, Map.of(1, NEW))), Map.of("m", settled.view()), false, Set.of());
        assertEquals(List.of(), next.loads(), "the same refused files are not tried on every poll");
        ReloadPlan<String> explicit = plan(Map.of("m", scan(info, Map.of(1, NEW))), Map.of("m", settled.view()), true, Set.of());
        assertEquals(1, explicit.loads().size(), "an explicit load tries again");
    }

    @Test
    void aFailedVersionIsRetriedWhenItsFilesChange() {
        ModelInfo info = info("m");
        VersionSlot<String> failed = new VersionSlot<>(1, ModelState.UNAVAILABLE, "broken", null, OLD, CONFIG, true);
        assertEquals(List.of(), plan(Map.of("m", scan(info, Map.of(1, OLD))), Map.of("m", view(info, failed)), false, Set.of()).loads());
        assertEquals(1, plan(Map.of("m", scan(info, Map.of(1, NEW))), Map.of("m", view(info, failed)), false, Set.of()).loads().size());
    }

    @Test
    void aPolicyThatDropsAVersionRetiresItAfterPublishingWithTheReason() {
        ModelInfo before = info("m");
        ModelInfo latestOne = new ModelInfo("m", "", Map.of(), VersionPolicy.latest(1), CONFIG);
        ReloadPlan<String> plan = plan(Map.of("m", scan(latestOne, Map.of(1, OLD, 2, OLD))),
                Map.of("m", view(before, serving(1, OLD), serving(2, OLD))), false, Set.of());
        assertTrue(plan.changed());
        assertEquals(List.of(), plan.loads());
        assertEquals("copy-1", plan.interim().get("m").versions().get(1).runner(), "serves until the new state is published");
        assertEquals(before, plan.interim().get("m").info(), "the old model.json until then");
        ReloadPlan.Settled<String> settled = plan.settle("m", Map.of());
        assertEquals(latestOne, settled.view().info());
        VersionSlot<String> one = settled.view().versions().get(1);
        assertEquals(ModelState.UNAVAILABLE, one.state());
        assertEquals("not selected by the version policy", one.reason());
        assertNull(one.runner());
        assertEquals(List.of("copy-1"), settled.retire().stream().map(VersionSlot::runner).toList());
    }

    @Test
    void aMovedAliasIsPublishedOnlyWithTheSettledView() {
        ModelInfo before = info("m").withAlias(ModelInfo.PRODUCTION, AliasTarget.single(1));
        ModelInfo after = before.withAlias(ModelInfo.PRODUCTION, AliasTarget.single(2));
        ReloadPlan<String> plan = plan(Map.of("m", scan(after, Map.of(1, OLD, 2, OLD))),
                Map.of("m", view(before, serving(1, OLD))), false, Set.of());
        assertEquals(List.of(2), plan.loads().stream().map(ReloadPlan.LoadTask::version).toList());
        assertEquals(before, plan.interim().get("m").info(), "production still points at 1 while 2 loads");
        ReloadPlan.Settled<String> settled = plan.settle("m", Map.of(2, loaded(plan.loads().get(0), "copy-2")));
        assertEquals(after, settled.view().info());
        assertEquals(ModelState.READY, settled.view().versions().get(2).state());
    }

    @Test
    void aDeletedVersionLeavesTheIndexAndADeletedModelRetiresAtOnce() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(2, OLD))),
                Map.of("m", view(info, serving(1, OLD), serving(2, OLD))), false, Set.of());
        ReloadPlan.Settled<String> settled = plan.settle("m", Map.of());
        assertEquals(Set.of(2), settled.view().versions().keySet());
        assertEquals(List.of("copy-1"), settled.retire().stream().map(VersionSlot::runner).toList());

        ReloadPlan<String> gone = plan(Map.of(), Map.of("m", view(info, serving(1, OLD))), false, Set.of());
        assertTrue(gone.changed());
        assertEquals(List.of("m"), gone.removed());
        assertEquals(List.of("copy-1"), gone.retireNow().stream().map(ReloadPlan.Retirement::runner).toList());
        assertTrue(gone.target().isEmpty());
    }

    @Test
    void anUnloadedModelRetiresItsVersionsAndSaysUnloaded() {
        ModelInfo info = info("m");
        ReloadPlan<String> plan = plan(Map.of("m", scan(info, Map.of(1, OLD))), Map.of("m", view(info, serving(1, OLD))), false, Set.of("m"));
        ReloadPlan.Settled<String> settled = plan.settle("m", Map.of());
        assertEquals("unloaded", settled.view().versions().get(1).reason());
        assertEquals(1, settled.retire().size());
        ReloadPlan<String> never = plan(Map.of("n", scan(info("n"), Map.of(1, OLD))), Map.of(), false, Set.of("n"));
        assertEquals("unloaded", never.target().get("n").versions().get(1).reason());
        assertEquals(List.of(), never.loads());
    }

    @Test
    void aChangedServingConfigReloadsTheVersion() {
        ModelInfo before = info("m");
        ModelInfo after = new ModelInfo("m", "", Map.of(), VersionPolicy.all(), CONFIG.toBuilder().sessions(2).build());
        Map<String, ModelView<String>> current = new HashMap<>(Map.of("m", view(before, serving(1, OLD))));
        ReloadPlan<String> plan = plan(Map.of("m", scan(after, Map.of(1, OLD))), current, false, Set.of());
        assertEquals(List.of("m:1"), configsAsked);
        assertEquals(1, plan.loads().size());
        assertEquals(2, plan.loads().get(0).config().sessions());
    }
}
