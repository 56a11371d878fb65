package dev.berth.registry;

import com.google.protobuf.TextFormat;
import dev.berth.registry.triton.ModelConfig;
import dev.berth.registry.triton.ModelDynamicBatching;
import dev.berth.registry.triton.ModelInput;
import dev.berth.registry.triton.ModelInstanceGroup;
import dev.berth.registry.triton.ModelOutput;
import dev.berth.registry.triton.ModelQueuePolicy;
import dev.berth.registry.triton.ModelVersionPolicy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Filter;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Triton {@code config.pbtxt} beside a model ({@code <model>/config.pbtxt}), read with protobuf's
 * own text-format parser against Triton's message definitions (the {@code inference} package,
 * {@code registry/src/main/protobuf/triton/model_config.proto}), and mapped onto berth's
 * {@link ServingConfig} and {@link VersionPolicy} so that a Triton model repository is served as
 * Triton would serve it:
 *
 * <ul>
 *   <li>{@code max_batch_size} is the batch limit; inputs' and outputs' {@code dims} leave the batch
 *       axis out when it is above 0, as in Triton;</li>
 *   <li>{@code dynamic_batching} turns the batcher on ({@code max_queue_delay_microseconds},
 *       {@code preferred_batch_size}, {@code default_queue_policy.max_queue_size}); without it,
 *       requests run one by one, as in Triton;</li>
 *   <li>{@code instance_group} counts add up to the number of ONNX Runtime sessions;</li>
 *   <li>{@code version_policy} picks the versions served; without one, the latest version only
 *       (Triton's default);</li>
 *   <li>{@code input} and {@code output} are checked against the model when it loads.</li>
 * </ul>
 *
 * A field berth does not act on (GPU placement, {@code optimization}, {@code sequence_batching},
 * {@code parameters}, {@code model_warmup}, ...) is a {@link #warnings() warning}, never a failure.
 * A file that is not valid text format, or that asks for something berth cannot do (another
 * platform, another model file name, a name that is not the folder's), is refused with one
 * line naming the file, the line and the field.
 */
public final class TritonConfig {
    /** Where Triton keeps a model's configuration: beside its version folders. */
    public static final String FILE = "config.pbtxt";

    private static final Object PARSE_LOCK = new Object();
    private static final String UNKNOWN_FIELDS = "Input contains unknown fields";

    private final Path file;
    private final ModelConfig config;
    private final List<String> warnings;

    private TritonConfig(Path file, ModelConfig config, List<String> warnings) {
        this.file = file;
        this.config = config;
        this.warnings = new ArrayList<>(warnings);
    }

    /**
     * Reads and checks {@code file}, the configuration of model {@code model}.
     *
     * @throws InvalidArgumentException for a malformed file or one berth cannot serve as written
     */
    public static TritonConfig read(Path file, String model) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidArgumentException(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file, model);
    }

    static TritonConfig parse(String text, Path file, String model) {
        List<String> warnings = new ArrayList<>();
        ModelConfig.Builder b = ModelConfig.newBuilder();
        List<String> unknown = new ArrayList<>();
        try {
            mergeCapturingUnknownFields(text, b, unknown);
        } catch (TextFormat.ParseException e) {
            throw new InvalidArgumentException(file + ": " + describe(e, text));
        }
        for (String u : unknown) {
            warnings.add(u + " is not used by berth; ignored");
        }
        ModelConfig c = b.build();
        TritonConfig tc = new TritonConfig(file, c, warnings);
        tc.check(model);
        return tc;
    }

    /**
     * TextFormat skips unknown fields only with a logged warning that lists them; the list is
     * taken from that record (and kept off the console) so each field can be named in berth's own
     * warning. The filter is set under a lock, for the current thread only.
     */
    private static void mergeCapturingUnknownFields(String text, ModelConfig.Builder b, List<String> unknown)
            throws TextFormat.ParseException {
        TextFormat.Parser parser = TextFormat.Parser.newBuilder().setAllowUnknownFields(true).build();
        Logger log = Logger.getLogger(TextFormat.class.getName());
        Thread me = Thread.currentThread();
        synchronized (PARSE_LOCK) {
            Filter before = log.getFilter();
            log.setFilter(r -> {
                if (Thread.currentThread() == me && r.getMessage() != null && r.getMessage().startsWith(UNKNOWN_FIELDS)) {
                    r.getMessage().lines().skip(1).map(String::strip).filter(l -> !l.isEmpty())
                            .map(TritonConfig::unknownField).forEach(unknown::add);
                    return false;
                }
                return before == null || before.isLoggable(r);
            });
            try {
                parser.merge(text, b);
            } finally {
                log.setFilter(before);
            }
        }
    }

    /** {@code "12:3:\tinference.ModelConfig.optimization"} as {@code "line 12: field 'optimization'"}. */
    private static String unknownField(String line) {
        String[] parts = line.split(":", 3);
        if (parts.length == 3 && parts[0].chars().allMatch(Character::isDigit)) {
            String name = parts[2].strip();
            String field = name.startsWith("inference.") ? name.substring("inference.".length()) : name;
            // top-level fields by their own name (as written in the file), nested ones with their message's
            field = field.startsWith("ModelConfig.") ? field.substring("ModelConfig.".length()) : field;
            return "line " + parts[0] + ": field '" + field + "'";
        }
        return "field '" + line + "'";
    }

    private static String describe(TextFormat.ParseException e, String text) {
        String m = e.getMessage() == null ? "not protobuf text format" : e.getMessage();
        // TextFormat says "4:10: Expected ..." (line:column:); keep the reason, say where in words
        m = m.replaceFirst("^-?\\d+:-?\\d+:\\s*", "").replace("inference.", "").replace("For input string: ", "");
        m = m.lines().findFirst().orElse(m);
        if (e.getLine() <= 0) {
            return m;
        }
        String field = fieldAt(text, e.getLine(), e.getColumn());
        return "line " + e.getLine() + ", column " + e.getColumn() + (field == null ? "" : " (field '" + field + "')") + ": " + m;
    }

    /** The name of the field whose value starts before {@code column} on {@code line} (both 1-based), if one does. */
    private static String fieldAt(String text, int line, int column) {
        List<String> lines = text.lines().toList();
        if (line > lines.size()) {
            return null;
        }
        String before = lines.get(line - 1).substring(0, Math.min(Math.max(0, column - 1), lines.get(line - 1).length()));
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*:").matcher(before);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    private void check(String model) {
        if (!config.getName().isEmpty() && !config.getName().equals(model)) {
            throw refuse("name", "'" + config.getName() + "' is not the model's folder name '" + model + "' (Triton requires them equal)");
        }
        String platform = config.getPlatform();
        if (!platform.isEmpty() && !platform.equals("onnxruntime_onnx")) {
            throw refuse("platform", "'" + platform + "': berth serves ONNX models only (onnxruntime_onnx, or leave it out)");
        }
        String backend = config.getBackend();
        if (!backend.isEmpty() && !backend.equals("onnxruntime")) {
            throw refuse("backend", "'" + backend + "': berth serves ONNX models with ONNX Runtime only (onnxruntime, or leave it out)");
        }
        if (!config.getDefaultModelFilename().isEmpty() && !config.getDefaultModelFilename().equals(LocalRegistry.MODEL_FILE)) {
            throw refuse("default_model_filename", "'" + config.getDefaultModelFilename() + "': berth loads <version>/"
                    + LocalRegistry.MODEL_FILE + " (rename the file or leave the field out)");
        }
        if (!config.getRuntime().isEmpty()) {
            warn("runtime '" + config.getRuntime() + "' is not used by berth; ignored");
        }
        if (config.getMaxBatchSize() < 0) {
            throw refuse("max_batch_size", "must be 0 (no batch axis) or more, got " + config.getMaxBatchSize());
        }
        if (config.hasDynamicBatching() && config.getMaxBatchSize() == 0) {
            throw refuse("dynamic_batching", "needs max_batch_size above 0 (Triton refuses it too)");
        }
        for (ModelInstanceGroup g : config.getInstanceGroupList()) {
            if (g.getCount() < 0) {
                throw refuse("instance_group.count", "must be 1 or more, got " + g.getCount());
            }
            if (g.getKind() == ModelInstanceGroup.Kind.KIND_GPU || g.getGpusCount() > 0) {
                warn("instance_group " + label(g) + " asks for GPUs; berth runs ONNX Runtime on the CPU, as "
                        + Math.max(1, g.getCount()) + " session(s)");
            } else if (g.getKind() == ModelInstanceGroup.Kind.KIND_MODEL) {
                warn("instance_group " + label(g) + " kind KIND_MODEL is served as " + Math.max(1, g.getCount()) + " CPU session(s)");
            }
        }
        if (config.hasDynamicBatching()) {
            ModelDynamicBatching d = config.getDynamicBatching();
            if (d.getPreserveOrdering()) {
                warn("dynamic_batching.preserve_ordering is not needed: berth answers each request on its own connection or stream; ignored");
            }
            if (d.getPriorityLevels() > 0 || d.getDefaultPriorityLevel() > 0) {
                warn("dynamic_batching priority levels are not supported; every request has the same priority");
            }
            ModelQueuePolicy q = d.getDefaultQueuePolicy();
            if (q.getTimeoutAction() != ModelQueuePolicy.TimeoutAction.REJECT || q.getDefaultTimeoutMicroseconds() > 0
                    || q.getAllowTimeoutOverride()) {
                warn("dynamic_batching.default_queue_policy timeouts are not supported (berth serve --request-timeout applies); ignored");
            }
        }
        if (config.hasVersionPolicy()) {
            ModelVersionPolicy p = config.getVersionPolicy();
            if (p.hasLatest() && p.getLatest().getNumVersions() < 1) {
                throw refuse("version_policy.latest.num_versions", "must be 1 or more");
            }
            if (p.hasSpecific() && p.getSpecific().getVersionsCount() == 0) {
                throw refuse("version_policy.specific.versions", "must list at least one version");
            }
        }
        for (ModelInput in : config.getInputList()) {
            tensorChecks("input", in.getName(), in.getDataType());
            if (in.getFormat() != ModelInput.Format.FORMAT_NONE) {
                warn("input '" + in.getName() + "' format " + in.getFormat() + " is informational; ignored");
            }
            if (in.getIsShapeTensor() || in.getAllowRaggedBatch() || in.getOptional()) {
                warn("input '" + in.getName() + "': is_shape_tensor, allow_ragged_batch and optional are not supported; ignored");
            }
            if (in.hasReshape()) {
                warn("input '" + in.getName() + "': reshape is not supported; requests must carry the model's own shape");
            }
        }
        for (ModelOutput out : config.getOutputList()) {
            tensorChecks("output", out.getName(), out.getDataType());
            if (!out.getLabelFilename().isEmpty()) {
                warn("output '" + out.getName() + "': label_filename is not supported (class labels come from the registered signature); ignored");
            }
            if (out.hasReshape() || out.getIsShapeTensor()) {
                warn("output '" + out.getName() + "': reshape and is_shape_tensor are not supported; ignored");
            }
        }
        // the serving configuration itself must hold together (preferred sizes within max_batch_size, ...)
        servingOver(ServingConfig.defaults());
    }

    private void tensorChecks(String kind, String name, dev.berth.registry.triton.DataType type) {
        if (name.isEmpty()) {
            throw refuse(kind + ".name", "every " + kind + " needs a name");
        }
        if (type == dev.berth.registry.triton.DataType.TYPE_INVALID) {
            throw refuse(kind + ".data_type", kind + " '" + name + "' needs a data_type such as TYPE_FP32");
        }
    }

    private static String label(ModelInstanceGroup g) {
        return g.getName().isEmpty() ? "(unnamed)" : "'" + g.getName() + "'";
    }

    private void warn(String message) {
        warnings.add(message);
    }

    private InvalidArgumentException refuse(String field, String why) {
        return new InvalidArgumentException(file + ": field '" + field + "' " + why);
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** What berth does not act on, one line each, naming the field (and its line where TextFormat gave one). */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** The version policy the file states, else Triton's default: the latest version only. */
    public VersionPolicy versionPolicy() {
        if (!config.hasVersionPolicy()) {
            return VersionPolicy.latest(1);
        }
        ModelVersionPolicy p = config.getVersionPolicy();
        if (p.hasLatest()) {
            return VersionPolicy.latest((int) Math.min(Integer.MAX_VALUE, p.getLatest().getNumVersions()));
        }
        if (p.hasSpecific()) {
            return VersionPolicy.specific(p.getSpecific().getVersionsList().stream().map(Long::intValue).toList());
        }
        return VersionPolicy.all();
    }

    /**
     * {@code base} (the model's {@code model.json} serving block, else the defaults) with what
     * this file states: batching, instances, queue size and declared tensors. Threads,
     * optimisation level and warm-up have no Triton field and stay as {@code base} says.
     */
    public ServingConfig servingOver(ServingConfig base) {
        ServingConfig.Builder b = base.toBuilder();
        int max = config.getMaxBatchSize();
        b.maxBatchSize(Math.max(1, max));
        if (config.hasDynamicBatching()) {
            ModelDynamicBatching d = config.getDynamicBatching();
            b.dynamicBatching(true)
                    .maxQueueDelayMicros(d.getMaxQueueDelayMicroseconds())
                    .preferredBatchSizes(d.getPreferredBatchSizeList())
                    .maxQueueSize((int) Math.min(Integer.MAX_VALUE, d.getDefaultQueuePolicy().getMaxQueueSize()));
        } else {
            b.dynamicBatching(false).preferredBatchSizes(List.of());
        }
        if (config.getInstanceGroupCount() > 0) {
            // an instance count the file states is the user's layout (the builder marks it fixed)
            b.sessions(config.getInstanceGroupList().stream().mapToInt(g -> Math.max(1, g.getCount())).sum());
        }
        boolean batchAxis = max > 0;
        b.inputs(config.getInputList().stream().map(i -> tensor(i.getName(), i.getDataType(),
                i.hasReshape() ? i.getReshape().getShapeList() : i.getDimsList(), batchAxis)).toList());
        b.outputs(config.getOutputList().stream().map(o -> tensor(o.getName(), o.getDataType(),
                o.hasReshape() ? o.getReshape().getShapeList() : o.getDimsList(), batchAxis)).toList());
        try {
            return b.build();
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException(file + ": " + e.getMessage().replace("preferred_batch_sizes",
                    "dynamic_batching.preferred_batch_size"), e);
        }
    }

    private static ServingConfig.DeclaredTensor tensor(String name, dev.berth.registry.triton.DataType type, List<Long> dims,
                                                       boolean batchAxis) {
        List<Long> shape = new ArrayList<>();
        if (batchAxis) {
            shape.add(-1L);
        }
        shape.addAll(dims);
        return new ServingConfig.DeclaredTensor(name, dataType(type), shape);
    }

    /** Triton's element type names: {@code TYPE_FP32} is FP32, {@code TYPE_STRING} is BYTES. */
    static DataType dataType(dev.berth.registry.triton.DataType type) {
        if (type == dev.berth.registry.triton.DataType.TYPE_STRING) {
            return DataType.BYTES;
        }
        return DataType.valueOf(type.name().substring("TYPE_".length()).toUpperCase(Locale.ROOT));
    }
}
