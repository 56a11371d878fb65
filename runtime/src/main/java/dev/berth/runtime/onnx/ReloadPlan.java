package dev.berth.runtime.onnx;

import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.runtime.ModelState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The plan of one hot reload, worked out without touching a file or a session: given what the
 * registry holds now ({@link ModelScan}s) and what the core serves ({@link ModelView}s), which
 * versions to load, what to publish while they load, and what to retire once the new state is
 * published ({@link #plan}); then, given how the loads went, the views to publish and the copies to
 * retire ({@link #settle}). {@link ModelLifeCycle} carries it out.
 *
 * <p>Rules: a version the model's version policy selects (and whose model is wanted) is loaded when
 * it is new, its files (size and mtime of {@code model.onnx} and {@code manifest.json}) or its
 * serving config changed, or it failed before and {@code retryFailed} (an explicit load); a version
 * that failed with the same files and config is not tried again. A version that serves keeps
 * serving while its replacement loads, and keeps serving if the replacement fails. Versions the
 * policy no longer selects, that left the registry, or whose model was unloaded are retired after
 * the new state is published.
 *
 * @param changed    whether anything changed (the observer hears {@code registryReloaded()})
 * @param removed    models that left the registry: their views go at once
 * @param retireNow  the loaded copies of the removed models
 * @param interim    views to publish before loading: new versions LOADING, the old aliases and copies still serving
 * @param target     views to publish once the loads are done, before {@link #settle}
 * @param dropAfter  per model, versions whose copy is retired after publishing, with the reason they then show
 *                   (a null reason: the version left the registry and leaves the index)
 * @param loads      versions to load, in model and version order
 * @param <R>        the loaded copy's type ({@link VersionRunner} in the core)
 */
record ReloadPlan<R>(boolean changed, List<String> removed, List<Retirement<R>> retireNow, Map<String, ModelView<R>> interim,
                     Map<String, ModelView<R>> target, Map<String, Map<Integer, String>> dropAfter, List<LoadTask> loads) {

    /** The start of the reason a serving version shows after its changed files were refused. */
    static final String RELOAD_REFUSED = "serving the copy loaded before; the changed model file was refused: ";

    /** What the registry holds for one model, as read for one reload. */
    record ModelScan(String name, ModelInfo info, Fingerprint infoFingerprint, TreeMap<Integer, Fingerprint> versions) {
    }

    /** A loaded copy to retire. */
    record Retirement<R>(String model, int version, R runner) {
    }

    /** {@code replacing}: the version serves now, and keeps serving what it had if this load fails. */
    record LoadTask(String model, int version, Fingerprint fingerprint, ServingConfig config, boolean replacing) {
    }

    /** How a load went: a loaded copy, or the reason it failed. */
    record LoadResult<R>(LoadTask task, R runner, String failure) {
    }

    /** A model's view after its loads, the copies to retire now, and the refused replacements to log. */
    record Settled<R>(ModelView<R> view, List<VersionSlot<R>> retire, List<String> refused) {
    }

    /** The serving config of a version that needs one worked out (its manifest may say more than model.json). */
    @FunctionalInterface
    interface ServingConfigs {
        ServingConfig of(String model, int version, ModelInfo info);
    }

    /**
     * Plans the reload of {@code names}.
     *
     * @param scans         what the registry holds, for every name it still has (a name without a scan left it)
     * @param current       the published views
     * @param wanted        whether a model should serve (not unloaded, and in the models to load)
     * @param unloadedByApi whether a model was unloaded through the repository API (its versions then say "unloaded")
     * @param retryFailed   try versions that failed with the same files again (an explicit load)
     * @param configs       the serving config of a version whose files or model.json changed
     */
    static <R> ReloadPlan<R> plan(Set<String> names, Map<String, ModelScan> scans, Map<String, ModelView<R>> current,
                                  Predicate<String> wanted, Predicate<String> unloadedByApi, boolean retryFailed,
                                  ServingConfigs configs) {
        boolean changed = false;
        List<String> removed = new ArrayList<>();
        List<Retirement<R>> retireNow = new ArrayList<>();
        Map<String, ModelView<R>> interim = new LinkedHashMap<>();
        Map<String, ModelView<R>> target = new LinkedHashMap<>();
        Map<String, Map<Integer, String>> dropAfter = new LinkedHashMap<>();
        List<LoadTask> loads = new ArrayList<>();

        for (String name : names) {
            ModelView<R> old = current.get(name);
            ModelScan scan = scans.get(name);
            if (scan == null) {
                if (old != null) {
                    changed = true;
                    removed.add(name);
                    for (VersionSlot<R> slot : old.versions().values()) {
                        if (slot.serving()) {
                            retireNow.add(new Retirement<>(name, slot.version(), slot.runner()));
                        }
                    }
                }
                continue;
            }
            ModelInfo info = scan.info();
            changed |= old == null || !old.info().equals(info);
            boolean isWanted = wanted.test(name);
            List<Integer> desired = isWanted ? info.versionPolicy().select(List.copyOf(scan.versions().keySet())) : List.of();
            TreeMap<Integer, VersionSlot<R>> slots = new TreeMap<>();
            Map<Integer, String> drop = new TreeMap<>();
            dropAfter.put(name, drop);
            for (Map.Entry<Integer, Fingerprint> e : scan.versions().entrySet()) {
                int v = e.getKey();
                Fingerprint print = e.getValue();
                VersionSlot<R> slot = old == null ? null : old.versions().get(v);
                boolean serving = slot != null && slot.serving();
                if (desired.contains(v)) {
                    boolean sameFiles = slot != null && print.equals(slot.fingerprint());
                    ServingConfig config = sameFiles && slot.config() != null && Objects.equals(old.info().serving(), info.serving())
                            ? slot.config() : configs.of(name, v, info);
                    boolean failedBefore = !retryFailed && slot != null && slot.failed() && sameFiles
                            && Objects.equals(slot.config(), config);
                    // a serving version whose changed files were refused is tried again when they change, or on an explicit load
                    boolean needsLoad = serving ? !sameFiles || !Objects.equals(slot.config(), config) || retryFailed && slot.failed()
                            : !failedBefore;
                    if (needsLoad) {
                        loads.add(new LoadTask(name, v, print, config, serving));
                        changed = true;
                        slots.put(v, serving ? slot : new VersionSlot<>(v, ModelState.LOADING, "", null, print, config, false));
                    } else {
                        slots.put(v, slot);
                    }
                } else {
                    String reason = isWanted ? "not selected by the version policy"
                            : unloadedByApi.test(name) ? "unloaded" : "not loaded";
                    if (serving) {
                        changed = true;
                        drop.put(v, isWanted ? "not selected by the version policy" : "unloaded");
                    }
                    // keeps serving until the new state is published
                    slots.put(v, serving ? slot : new VersionSlot<>(v, ModelState.UNAVAILABLE, reason, null, print, null, false));
                }
            }
            if (old != null) {
                for (VersionSlot<R> slot : old.versions().values()) {
                    if (!slots.containsKey(slot.version())) {
                        changed = true;
                        if (slot.serving()) {
                            slots.put(slot.version(), slot); // serves until the reload is published
                            drop.put(slot.version(), null);
                        }
                    }
                }
            }
            // LOADING shows in the index at once, while the old aliases and versions keep serving
            interim.put(name, new ModelView<>(name, old != null ? old.info() : info,
                    old != null ? old.infoFingerprint() : scan.infoFingerprint(), slots));
            target.put(name, new ModelView<>(name, info, scan.infoFingerprint(), new TreeMap<>(slots)));
        }
        return new ReloadPlan<>(changed, removed, retireNow, interim, target, dropAfter, loads);
    }

    /**
     * The view of {@code model} to publish once its loads are done: loaded versions READY (their old
     * copies retired), failed new versions UNAVAILABLE with the reason, failed replacements serving
     * the copy they had (with {@link #RELOAD_REFUSED} and the reason), dropped versions retired.
     *
     * @param loaded how each of the model's loads went, by version
     */
    Settled<R> settle(String model, Map<Integer, LoadResult<R>> loaded) {
        ModelView<R> planned = target.get(model);
        Map<Integer, String> drop = dropAfter.getOrDefault(model, Map.of());
        TreeMap<Integer, VersionSlot<R>> slots = new TreeMap<>();
        List<VersionSlot<R>> retire = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (VersionSlot<R> slot : planned.versions().values()) {
            LoadResult<R> result = loaded.get(slot.version());
            if (result != null) {
                if (result.runner() != null) {
                    if (slot.serving()) {
                        retire.add(slot);
                    }
                    slots.put(slot.version(), new VersionSlot<>(slot.version(), ModelState.READY, "", result.runner(),
                            result.task().fingerprint(), result.task().config(), false));
                } else if (slot.serving()) {
                    // the replacement failed; the version keeps serving what it had. The new files'
                    // fingerprint is kept, so the next poll does not try (and log) the same files again
                    refused.add("reloading '" + model + "' version " + slot.version()
                            + " refused, the copy loaded before keeps serving: " + result.failure());
                    slots.put(slot.version(), new VersionSlot<>(slot.version(), ModelState.READY,
                            RELOAD_REFUSED + result.failure(), slot.runner(), result.task().fingerprint(), slot.config(), true));
                } else {
                    slots.put(slot.version(), new VersionSlot<>(slot.version(), ModelState.UNAVAILABLE, result.failure(), null,
                            result.task().fingerprint(), result.task().config(), true));
                }
            } else if (slot.serving() && drop.containsKey(slot.version())) {
                retire.add(slot);
                String reason = drop.get(slot.version());
                if (reason != null) { // null: the version left the registry
                    slots.put(slot.version(), new VersionSlot<>(slot.version(), ModelState.UNAVAILABLE, reason, null,
                            slot.fingerprint(), null, false));
                }
            } else {
                slots.put(slot.version(), slot);
            }
        }
        return new Settled<>(new ModelView<>(model, planned.info(), planned.infoFingerprint(), slots), retire, refused);
    }
}
