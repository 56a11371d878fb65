package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A Triton model repository's config.pbtxt read into berth's serving configuration, on real files. */
class TritonConfigTest {
    /** A config as Triton's documentation shapes them, with fields berth does not act on. */
    static final String CHURN_CONFIG = """
            name: "churn"
            platform: "onnxruntime_onnx"
            max_batch_size: 16
            version_policy: { latest: { num_versions: 2 } }
            input [
              {
                name: "features"
                data_type: TYPE_FP32
                dims: [ 8 ]
              }
            ]
            output [
              { name: "probabilities", data_type: TYPE_FP32, dims: [ 2 ] },
              { name: "label" data_type: TYPE_INT64 dims: [ ] }
            ]
            dynamic_batching {
              preferred_batch_size: [ 4, 8 ]
              max_queue_delay_microseconds: 250
              default_queue_policy { max_queue_size: 64 }
            }
            instance_group [ { count: 2, kind: KIND_CPU }, { count: 1, kind: KIND_GPU, gpus: [ 0 ] } ]
            optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } }
            parameters { key: "intra_op_thread_count" value: { string_value: "2" } }
            model_warmup [ { name: "zeros" batch_size: 1 } ]
            """;

    @TempDir
    Path tmp;
    Path root;
    LocalRegistry registry;
    Path model;

    @BeforeEach
    void setUp() throws IOException {
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("sample"));
        root = tmp.resolve("repo");
        model = churn.resolve("model.onnx");
        for (int v = 1; v <= 3; v++) {
            Files.createDirectories(root.resolve("churn/" + v));
            Files.copy(model, root.resolve("churn/" + v + "/model.onnx"));
        }
        registry = LocalRegistry.open(root);
    }

    private Path config(String text) throws IOException {
        return Files.writeString(root.resolve("churn/config.pbtxt"), text);
    }

    @Test
    void everyMappedFieldReachesTheServingConfigAndTheRestAreWarnings() throws IOException {
        Path file = config(CHURN_CONFIG);
        ModelInfo info = registry.info("churn");
        ServingConfig s = info.servingFor(null);
        assertEquals(16, s.maxBatchSize());
        assertTrue(s.dynamicBatching());
        assertEquals(250, s.maxQueueDelayMicros());
        assertEquals(List.of(4, 8), s.preferredBatchSizes());
        assertEquals(64, s.maxQueueSize());
        assertEquals(3, s.sessions(), "instance counts add up (the GPU group runs on the CPU)");
        assertEquals(ServingConfig.LAYOUT_FIXED, s.layout(), "a stated instance count is never replaced by a measured layout");
        assertEquals(List.of(new ServingConfig.DeclaredTensor("features", DataType.FP32, List.of(-1L, 8L))), s.inputs());
        assertEquals(new ServingConfig.DeclaredTensor("label", DataType.INT64, List.of(-1L)), s.outputs().get(1));
        assertEquals(VersionPolicy.latest(2), info.versionPolicy());
        assertEquals(List.of(2, 3), info.versionPolicy().select(registry.versions("churn")));
        // threads, optimisation level and warm-up have no Triton field: berth's defaults stay
        assertEquals(ServingConfig.defaults().intraOpThreads(), s.intraOpThreads());
        assertTrue(s.warmup());

        List<String> warnings = registry.tritonConfig("churn").orElseThrow().warnings();
        String all = String.join("\n", warnings);
        assertTrue(all.contains("line 22: field 'optimization' is not used by berth"), all);
        assertTrue(all.contains("line 23: field 'parameters'"), all);
        assertTrue(all.contains("line 24: field 'model_warmup'"), all);
        assertTrue(all.contains("asks for GPUs"), all);
        assertEquals(file, registry.tritonConfig("churn").orElseThrow().file());
    }

    @Test
    void triton_defaults_withoutAPolicyTheLatestVersionOnlyAndWithoutDynamicBatchingNoBatcher() throws IOException {
        config("max_batch_size: 8\n");
        ModelInfo info = registry.info("churn");
        assertEquals(List.of(3), info.versionPolicy().select(registry.versions("churn")));
        assertFalse(info.servingFor(null).dynamicBatching());
        assertEquals(8, info.servingFor(null).maxBatchSize());
    }

    @Test
    void modelJsonKeepsWhatTritonHasNoFieldForAndIsNeverOverwrittenWithIt() throws IOException {
        config("max_batch_size: 4\ninstance_group [ { count: 3 } ]\n");
        Files.writeString(root.resolve("churn/model.json"), """
                {"serving": {"intra_op_threads": 2, "warmup": false, "sessions": 1}}""");
        ServingConfig s = registry.info("churn").servingFor(null);
        assertEquals(2, s.intraOpThreads());
        assertFalse(s.warmup());
        assertEquals(3, s.sessions(), "config.pbtxt states the instance count");
        // a write through berth keeps model.json its own: no config.pbtxt values folded in
        registry.setAlias("churn", "production", AliasTarget.single(2));
        String json = Files.readString(root.resolve("churn/model.json"));
        assertTrue(json.contains("\"sessions\" : 1"), json);
        assertTrue(json.contains("\"kind\" : \"ALL\""), json);
    }

    @Test
    void theDeclaredTensorsAreCheckedAgainstTheModel() throws IOException {
        config(CHURN_CONFIG);
        Signature sig = RegistryWriteTest.READER.read(model);
        assertEquals(List.of(), registry.info("churn").servingFor(null).contradictions(sig));
        config(CHURN_CONFIG.replace("name: \"features\"", "name: \"pixels\"").replace("dims: [ 2 ]", "dims: [ 3 ]")
                .replace("TYPE_INT64", "TYPE_INT32"));
        List<String> problems = registry.info("churn").servingFor(null).contradictions(sig);
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("declared input 'pixels' is not in the model (its inputs: [features])"), problems.toString());
        assertTrue(problems.get(1).contains("output 'probabilities' is declared with shape [-1, 3]"), problems.toString());
        assertTrue(problems.get(2).contains("output 'label' is declared INT32, the model has INT64"), problems.toString());
    }

    @Test
    void aMalformedOrImpossibleFileIsOneLineNamingTheLineOrField() throws IOException {
        Map<String, String> before = TreeSnapshot.of(root);
        record Case(String text, String expected) {
        }
        for (Case c : List.of(
                new Case("max_batch_size: 8\ninput [ { name: \"x\" data_type: TYPE_FLOAT } ]\n",
                        "config.pbtxt: line 2, column 32 (field 'data_type'): Enum type \"DataType\" has no value named \"TYPE_FLOAT\""),
                new Case("max_batch_size: 8\ndynamic_batching {\n", "config.pbtxt: line 3"),
                new Case("max_batch_size: \"eight\"\n", "config.pbtxt: line 1, column 17 (field 'max_batch_size'): "),
                new Case("name: \"other\"\n", "field 'name' 'other' is not the model's folder name 'churn'"),
                new Case("platform: \"tensorflow_savedmodel\"\n", "field 'platform' 'tensorflow_savedmodel': berth serves ONNX models only"),
                new Case("dynamic_batching { }\n", "field 'dynamic_batching' needs max_batch_size above 0"),
                new Case("max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }\n",
                        "dynamic_batching.preferred_batch_size must lie between 1 and max_batch_size (4), got 8"),
                new Case("version_policy { latest { num_versions: 0 } }\n", "field 'version_policy.latest.num_versions' must be 1 or more"),
                new Case("default_model_filename: \"model.plan\"\n", "field 'default_model_filename' 'model.plan'"))) {
            config(c.text());
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> registry.info("churn"), c.text());
            assertTrue(e.getMessage().contains(c.expected()), c.text() + " -> " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertFalse(e.getMessage().contains("inference."), e.getMessage());
        }
        Files.delete(root.resolve("churn/config.pbtxt"));
        assertEquals(before, TreeSnapshot.of(root));
    }
}
