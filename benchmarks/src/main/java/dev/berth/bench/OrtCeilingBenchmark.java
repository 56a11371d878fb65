package dev.berth.bench;

import ai.onnxruntime.OrtException;
import dev.berth.registry.ServingConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The compute ceiling: ONNX Runtime called in-process on the models berth serves, with berth's
 * default serving configuration (its thread and optimisation settings). {@code case} is
 * {@code model:batch}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class OrtCeilingBenchmark {
    @Param({"churn:1", "slow:1", "slow:8", "large:1"})
    public String modelBatch;

    private OrtCase ort;

    @Setup(Level.Trial)
    public void open() throws OrtException {
        String[] parts = modelBatch.split(":");
        String model = parts[0];
        int batch = Integer.parseInt(parts[1]);
        ort = OrtCase.open(BenchModels.locate(model), model, BenchModels.shape(model, batch), ServingConfig.defaults());
    }

    @TearDown(Level.Trial)
    public void close() throws OrtException {
        ort.close();
    }

    @Benchmark
    public long run() throws OrtException {
        return ort.run();
    }
}
