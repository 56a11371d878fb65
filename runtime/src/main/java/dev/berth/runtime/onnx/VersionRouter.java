package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.WeightedVersion;
import dev.berth.runtime.InferenceException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Alias routing: which version of a model answers a request that names a version number, an
 * alias from {@code model.json} (weighted or not), or nothing. Pure: it reads only the published
 * {@link ModelView}s it is given and draws weights from the given random generator.
 *
 * <ul>
 *   <li>nothing: the {@code production} alias if the model has one, else the highest READY version;
 *   <li>a number: that version, 404 when the registry holds no such version, 503 with the reason
 *       when it is not READY;
 *   <li>an alias: one of its targets that are READY, drawn by weight; 503 when none is.
 * </ul>
 * A name the model does not know is 404 (NotFound).
 */
final class VersionRouter {
    private static final Pattern VERSION_NUMBER = Pattern.compile("[1-9][0-9]{0,8}");

    /** The version that answers, and its loaded copy. */
    record Route<R>(int version, R runner) {
    }

    private VersionRouter() {
    }

    /**
     * The version of {@code model} that answers {@code versionText} among {@code views}.
     *
     * @throws InferenceException.NotFound    for an unknown model, version number or alias
     * @throws InferenceException.Unavailable when the version (or every target of the alias) is not READY
     */
    static <R> Route<R> route(Map<String, ModelView<R>> views, String model, String versionText, RandomGenerator random) {
        ModelView<R> view = model == null ? null : views.get(model);
        if (view == null) {
            throw new InferenceException.NotFound("unknown model '" + model + "'");
        }
        // only "no version" means the default: a blank or padded segment (/versions/%20) names nothing
        if (versionText == null || versionText.isEmpty()) {
            Optional<AliasTarget> production = view.info().alias(ModelInfo.PRODUCTION);
            if (production.isPresent()) {
                return pick(view, ModelInfo.PRODUCTION, production.get(), random);
            }
            for (VersionSlot<R> slot : view.versions().descendingMap().values()) {
                if (slot.ready()) {
                    return new Route<>(slot.version(), slot.runner());
                }
            }
            throw new InferenceException.Unavailable("model '" + model + "' has no version ready" + reasons(view));
        }
        if (VERSION_NUMBER.matcher(versionText).matches()) {
            int version = Integer.parseInt(versionText);
            VersionSlot<R> slot = view.versions().get(version);
            if (slot == null) {
                throw new InferenceException.NotFound("model '" + model + "' has no version " + version
                        + " (versions: " + view.versions().keySet() + ")");
            }
            return ready(view, slot);
        }
        AliasTarget target = view.info().alias(versionText).orElseThrow(() -> new InferenceException.NotFound(
                "model '" + model + "' has no version or alias '" + versionText + "' (versions: " + view.versions().keySet()
                        + ", aliases: " + view.info().aliases().keySet() + ")"));
        return pick(view, versionText, target, random);
    }

    /** The READY versions of a model, in version order, as metadata lists them. */
    static List<String> readyVersions(ModelView<?> view) {
        List<String> ready = new ArrayList<>();
        for (VersionSlot<?> slot : view.versions().values()) {
            if (slot.ready()) {
                ready.add(Integer.toString(slot.version()));
            }
        }
        return ready;
    }

    private static <R> Route<R> ready(ModelView<R> view, VersionSlot<R> slot) {
        if (!slot.ready()) {
            throw new InferenceException.Unavailable("model '" + view.name() + "' version " + slot.version() + " is "
                    + slot.stateText());
        }
        return new Route<>(slot.version(), slot.runner());
    }

    /** Picks a version of an alias by weight, among the alias's versions that are ready. */
    private static <R> Route<R> pick(ModelView<R> view, String alias, AliasTarget target, RandomGenerator random) {
        List<WeightedVersion> ready = new ArrayList<>(target.targets().size());
        int total = 0;
        for (WeightedVersion wv : target.targets()) {
            VersionSlot<R> slot = view.versions().get(wv.version());
            if (slot != null && slot.ready()) {
                ready.add(wv);
                total += wv.weight();
            }
        }
        if (ready.isEmpty()) {
            throw new InferenceException.Unavailable("model '" + view.name() + "' alias '" + alias + "' points at version(s) "
                    + target.targets().stream().map(WeightedVersion::version).toList() + ", none of them ready" + reasons(view));
        }
        int draw = ready.size() == 1 ? 0 : random.nextInt(total);
        int acc = 0;
        for (WeightedVersion wv : ready) {
            acc += wv.weight();
            if (draw < acc) {
                return ready(view, view.versions().get(wv.version()));
            }
        }
        return ready(view, view.versions().get(ready.get(ready.size() - 1).version()));
    }

    private static String reasons(ModelView<?> view) {
        List<String> parts = new ArrayList<>();
        for (VersionSlot<?> slot : view.versions().values()) {
            if (!slot.ready()) {
                parts.add(slot.version() + " " + slot.stateText());
            }
        }
        return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
    }
}
