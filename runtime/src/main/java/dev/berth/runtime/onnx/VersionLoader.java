package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.ServingLayout;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceObserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Loads one planned version from the registry into a {@link VersionRunner}: finds its model file,
 * opens and warms up its sessions, adds the registry's column names and labels to the signature,
 * and tells the observer. A failure becomes the version's reason, never an exception.
 */
final class VersionLoader {
    private static final System.Logger LOG = System.getLogger(VersionLoader.class.getName());

    private final LocalRegistry registry;
    private final InferenceObserver observer;
    private final LongSupplier ticker;
    private final RunLimits limits;

    VersionLoader(LocalRegistry registry, InferenceObserver observer, LongSupplier ticker, RunLimits limits) {
        this.registry = registry;
        this.observer = observer;
        this.ticker = ticker;
        this.limits = limits;
    }

    ReloadPlan.LoadResult<VersionRunner> load(ReloadPlan.LoadTask task) {
        long start = ticker.getAsLong();
        try {
            Optional<ModelManifest> manifest = registry.storedManifest(task.model(), task.version());
            Path dir = registry.versionDir(task.model(), task.version());
            Path file = manifest.map(m -> dir.resolve(m.modelFile().path())).orElse(dir.resolve(LocalRegistry.MODEL_FILE));
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("no model file " + dir.relativize(file) + " in " + dir);
            }
            VersionRunner runner = VersionRunner.open(task.model(), task.version(), dir, file, task.config(),
                    sig -> declared(task.config(), enrich(sig, manifest.map(ModelManifest::signature).orElse(null))),
                    observer, ticker, limits, layoutStore(task.model(), task.version()));
            long nanos = ticker.getAsLong() - start;
            LOG.log(System.Logger.Level.INFO, () -> "loaded " + task.model() + " version " + task.version() + " in "
                    + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms (" + runner.config().sessions() + " session(s) x "
                    + runner.config().intraOpThreads() + " intra-op thread(s), batching "
                    + (runner.batchable() ? "on" : "off") + ")");
            observer.modelLoaded(task.model(), task.version(), nanos, null);
            return new ReloadPlan.LoadResult<>(task, runner, null);
        } catch (VersionRunner.LoadFailure e) {
            return failed(task, start, e, e.getMessage());
        } catch (Exception | LinkageError e) {
            return failed(task, start, e, "failed to load: " + (e instanceof OrtException ? RunFailures.reason(e)
                    : RunFailures.firstLine(e.getMessage() != null ? e.getMessage() : e.toString())));
        }
    }

    /** The version's {@value LocalRegistry#LAYOUT_FILE} in the registry. */
    private LayoutStore layoutStore(String model, int version) {
        return new LayoutStore() {
            @Override
            public Optional<ServingLayout> read() {
                return registry.servingLayout(model, version);
            }

            @Override
            public void write(ServingLayout layout) throws IOException {
                registry.writeServingLayout(model, version, layout);
            }
        };
    }

    /** A failed load: logged here for a new version, by the life cycle (once, with what keeps serving) for a replacement. */
    private ReloadPlan.LoadResult<VersionRunner> failed(ReloadPlan.LoadTask task, long start, Throwable e, String reason) {
        long nanos = ticker.getAsLong() - start;
        if (task.replacing()) {
            observer.modelReloadRefused(task.model(), task.version(), nanos, e);
        } else {
            LOG.log(System.Logger.Level.WARNING, task.model() + " version " + task.version() + " " + reason);
            observer.modelLoaded(task.model(), task.version(), nanos, e);
        }
        return new ReloadPlan.LoadResult<>(task, null, reason);
    }

    /** The serving config of a version: model.json's, with what its manifest records. */
    ServingConfig servingConfig(String model, int version, ModelInfo info) {
        try {
            return info.servingFor(registry.storedManifest(model, version).orElse(null));
        } catch (RuntimeException e) {
            // an unreadable manifest fails the load itself, with its own message
            return info.servingFor(null);
        }
    }

    /** The signature, once it fits the inputs and outputs the serving config declares (a Triton config.pbtxt's); else the load fails. */
    private static Signature declared(ServingConfig config, Signature signature) {
        List<String> problems = config.contradictions(signature);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("the model does not match its configuration: " + String.join("; ", problems));
        }
        return signature;
    }

    /** Adds column names and class labels that the registry recorded to the signature the session reports. */
    private static Signature enrich(Signature fromSession, Signature recorded) {
        if (recorded == null) {
            return fromSession;
        }
        return new Signature(enrich(fromSession.inputs(), recorded.inputs()), enrich(fromSession.outputs(), recorded.outputs()));
    }

    private static List<TensorSpec> enrich(List<TensorSpec> live, List<TensorSpec> recorded) {
        List<TensorSpec> out = new ArrayList<>(live.size());
        for (TensorSpec spec : live) {
            TensorSpec match = recorded.stream().filter(r -> r.name().equals(spec.name())).findFirst().orElse(null);
            out.add(match == null || (match.columns().isEmpty() && match.labels().isEmpty()) ? spec
                    : spec.withColumnsAndLabels(match.columns(), match.labels()));
        }
        return out;
    }
}
