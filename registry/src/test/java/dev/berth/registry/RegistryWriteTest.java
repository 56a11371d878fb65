package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry's write side on real files. The signature reader here is a stand-in (the registry
 * module cannot load ONNX Runtime); the packager's CLI tests run the same paths with the real one.
 */
class RegistryWriteTest {
    /** Accepts files that start like a serialized ONNX ModelProto (field 1, varint) and returns the churn signature. */
    static final SignatureReader READER = file -> {
        try {
            byte[] head = Files.readAllBytes(file);
            if (head.length < 2 || head[0] != 0x08) {
                throw new InvalidModelException(file + " is not a loadable ONNX model");
            }
        } catch (IOException e) {
            throw new InvalidModelException(file + " cannot be read", e);
        }
        return new Signature(List.of(TensorSpec.of("features", DataType.FP32, -1, 8)),
                List.of(TensorSpec.of("probabilities", DataType.FP32, -1, 2), TensorSpec.of("label", DataType.INT64, -1)));
    };

    @TempDir
    Path tmp;
    Path churn;
    Path root;
    LocalRegistry registry;

    @BeforeEach
    void setUp() {
        churn = Samples.copy(Samples.CHURN, tmp.resolve("samples/churn"));
        root = tmp.resolve("models");
        registry = LocalRegistry.open(root);
    }

    private ModelManifest registerChurn() {
        return registry.register(Registration.fromFolder("churn", churn).allowDuplicate(true).build(), READER);
    }

    @Test
    void registersASampleFolderWithEveryArtifactAndReadsItBack() throws IOException {
        ModelManifest m = registry.register(Registration.fromFolder("churn", churn)
                .description("churn classifier").author("ana").tag("team", "growth").alias("production")
                .runtime("onnxruntime", "1.23.2").build(), READER);

        assertEquals(1, m.version());
        assertEquals(List.of("churn"), registry.models());
        assertEquals(List.of(1), registry.versions("churn"));
        assertEquals(m, registry.storedManifest("churn", 1).orElseThrow(), "what register returns is what is stored");
        Path v1 = registry.versionDir("churn", 1);

        assertEquals(AtomicFiles.sha256(churn.resolve("model.onnx")), m.modelFile().sha256());
        assertEquals(Files.size(churn.resolve("model.onnx")), m.modelFile().size());
        assertEquals(v1.resolve("model.onnx"), registry.modelFile("churn", 1));
        assertEquals(0.7833, ((Number) m.metrics().get("accuracy")).doubleValue());
        assertEquals(64, m.params().get("batch_size"));
        assertEquals(List.of("numpy==2.4.6", "torch==2.13.0+cpu", "onnx==1.23.1", "onnxruntime==1.30.0", "scikit-learn==1.9.1"),
                m.dependencies().requirements());
        assertEquals("1.23.2", m.dependencies().runtime().get("onnxruntime"));
        assertEquals(Map.of("team", "growth"), m.tags());
        assertEquals("ana", m.author());

        // signature enriched from lineage.json: columns and class labels
        TensorSpec features = m.signature().input("features").orElseThrow();
        assertEquals(8, features.columns().size());
        assertEquals("tenure_months", features.columns().get(0));
        assertEquals(List.of("stays", "churns"), m.signature().output("probabilities").orElseThrow().labels());

        // lineage: both data files copied and hashed (and matching lineage.json), code and split facts kept
        assertEquals(List.of("customer_data.csv", "processed_customer_data.csv"),
                m.lineage().data().stream().map(ModelManifest.DataRef::name).toList());
        for (ModelManifest.DataRef d : m.lineage().data()) {
            assertEquals(AtomicFiles.sha256(churn.resolve("data").resolve(d.name())), d.sha256());
            assertEquals(d.sha256(), AtomicFiles.sha256(v1.resolve(d.path())));
        }
        assertEquals("make_samples.py", m.lineage().code().file());
        assertEquals("b5a44921cf41c330337caf8b759d74e9fbc885cef769dfc67ee83a65c528bafc", m.lineage().code().sha256());
        assertEquals("3.11.7", m.lineage().extra().get("python"));

        // every artifact is copied byte for byte and listed with its hash
        List<String> artifacts = m.artifacts().stream().map(FileEntry::path).toList();
        assertEquals(List.of("metrics.json", "hyperparameters.json", "requirements.txt", "lineage.json", "confusion_matrix.png",
                "example_request.json", "split.json", "training_log.txt"), artifacts);
        for (FileEntry f : m.artifacts()) {
            assertEquals(AtomicFiles.sha256(churn.resolve(f.path())), f.sha256(), f.path());
            assertEquals(f.sha256(), AtomicFiles.sha256(v1.resolve(f.path())), f.path());
        }

        ModelInfo info = registry.info("churn");
        assertEquals("churn classifier", info.description());
        assertEquals(AliasTarget.single(1), info.alias("production").orElseThrow());
        assertEquals(1, registry.resolve(ModelRef.parse("churn@production")));
        assertFalse(Files.readString(root.resolve("churn/model.json")).contains("\"split\""), "derived fields stay out of model.json");
        // nothing hidden is left over except the lock and the version counter
        try (var s = Files.list(root)) {
            assertEquals(List.of(".lock", "churn"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void explicitOptionsYamlParamsUrisAndCode() throws IOException {
        Path params = Files.writeString(tmp.resolve("params.yaml"), "learning_rate: 0.01\nlayers: [8, 4]\n");
        Path code = Files.writeString(tmp.resolve("train.py"), "print('train')\n");
        Path external = Files.writeString(tmp.resolve("external.csv"), "a,b\n1,2\n");
        ModelManifest m = registry.register(Registration.builder("churn-small", churn.resolve("model.onnx"))
                .paramsFile(params).code(code.toString())
                .data(churn.resolve("data/customer_data.csv").toString())
                .data(external.toUri().toString())
                .data("https://example.org/datasets/churn.parquet")
                .artifact(churn.resolve("confusion_matrix.png")).build(), READER);

        assertEquals(0.01, ((Number) m.params().get("learning_rate")).doubleValue());
        assertEquals(List.of(8, 4), m.params().get("layers"));
        assertEquals("code/train.py", m.lineage().code().path());
        assertEquals(AtomicFiles.sha256(code), m.lineage().code().sha256());
        List<ModelManifest.DataRef> data = m.lineage().data();
        assertEquals(3, data.size());
        assertEquals("data/customer_data.csv", data.get(0).path());
        assertNull(data.get(1).path(), "a file: URI is referenced, not copied");
        assertEquals(AtomicFiles.sha256(external), data.get(1).sha256());
        assertEquals("https://example.org/datasets/churn.parquet", data.get(2).uri());
        assertNull(data.get(2).sha256(), "no network: a remote URI is recorded without a hash");
        assertTrue(m.signature().input("features").orElseThrow().columns().isEmpty(), "no signature file, no columns");
        assertTrue(registry.verify("churn-small").ok());

        ModelManifest git = registry.register(Registration.builder("churn-small", churn.resolve("model.onnx"))
                .code("0123456789abcdef0123456789abcdef01234567").build(), READER);
        assertEquals(2, git.version());
        assertEquals("0123456789abcdef0123456789abcdef01234567", git.lineage().code().gitCommit());
    }

    @Test
    void aFolderWithOnlyModelOnnxIsARegistry() throws IOException {
        Path plain = root.resolve("iris/3");
        Files.createDirectories(plain);
        Files.copy(churn.resolve("model.onnx"), plain.resolve("model.onnx"));

        assertEquals(List.of("iris"), registry.models());
        assertEquals(List.of(3), registry.versions("iris"));
        assertEquals(3, registry.resolve(ModelRef.parse("iris")));
        assertTrue(registry.storedManifest("iris", 3).isEmpty());
        assertEquals(ModelInfo.empty("iris"), registry.info("iris"));
        ModelManifest described = registry.manifest("iris", 3, READER);
        assertEquals(AtomicFiles.sha256(churn.resolve("model.onnx")), described.modelFile().sha256());
        assertEquals(2, described.signature().outputs().size());
        VerifyReport report = registry.verify();
        assertTrue(report.ok());
        assertFalse(report.versions().get(0).hasManifest());

        // berth continues the numbering of an existing repository and leaves the old version untouched
        Map<String, String> before = TreeSnapshot.of(plain);
        assertEquals(4, registry.register(Registration.builder("iris", churn.resolve("model.onnx")).build(), READER).version());
        assertEquals(before, TreeSnapshot.of(plain));
        assertEquals(List.of(3, 4), registry.versions("iris"));
    }

    // ------------------------------------------------------------------ bad input leaves everything as it was

    @ParameterizedTest
    @ValueSource(strings = {"../x", "a/b", ".hidden", "", "-dash", "x y", "..", "churn/../../etc"})
    void badNamesAreRefusedBeforeAnythingIsWritten(String name) {
        registerChurn();
        Map<String, String> before = TreeSnapshot.of(tmp);
        assertThrows(InvalidArgumentException.class,
                () -> registry.register(Registration.builder(name, churn.resolve("model.onnx")).build(), READER));
        assertEquals(before, TreeSnapshot.of(tmp));
    }

    @Test
    void notAnOnnxFileLeavesTheRegistryAsItWas() throws IOException {
        registerChurn();
        Path bogus = Files.writeString(tmp.resolve("model.onnx"), "this is not a model");
        assertUnchanged(InvalidModelException.class, () -> registry.register(Registration.builder("churn", bogus).build(), READER));
        // and into an empty registry: not even the registry folder appears
        LocalRegistry fresh = LocalRegistry.open(tmp.resolve("fresh"));
        assertThrows(InvalidModelException.class, () -> fresh.register(Registration.builder("churn", bogus).build(), READER));
        assertFalse(Files.exists(tmp.resolve("fresh")));
    }

    @Test
    void unreadableInputFilesLeaveTheRegistryAsItWas() throws IOException {
        registerChurn();
        Path model = churn.resolve("model.onnx");
        Path badJson = Files.writeString(tmp.resolve("bad-metrics.json"), "{\"accuracy\": 0.9,");
        Path array = Files.writeString(tmp.resolve("array.json"), "[1, 2]");
        Path badYaml = Files.writeString(tmp.resolve("params.yaml"), "a: [1, 2\nb: }");
        Path wrongSig = Files.writeString(tmp.resolve("sig.json"),
                "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP64\", \"shape\": [-1, 8]}]}");
        Path unknownInput = Files.writeString(tmp.resolve("sig2.json"), "{\"inputs\": [{\"name\": \"pixels\"}]}");
        Path tooManyColumns = Files.writeString(tmp.resolve("sig3.json"),
                "{\"inputs\": [{\"name\": \"features\", \"columns\": [\"a\", \"b\"]}]}");
        Path tamperedLineage = tmp.resolve("lineage.json");
        Files.writeString(tamperedLineage, Files.readString(churn.resolve("lineage.json")).replace("5233f0a0", "00000000"));

        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).metricsFile(badJson).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).metricsFile(array).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).paramsFile(badYaml).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).signatureFile(wrongSig).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).signatureFile(unknownInput).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).signatureFile(tooManyColumns).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.fromFolder("churn", churn).signatureFile(tamperedLineage).build(), READER));
        Path otherSplit = Files.writeString(tmp.resolve("split.json"), "{\"validation_index\": [1, 2, 3]}");
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model)
                .signatureFile(churn.resolve("lineage.json")).artifact(otherSplit).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", tmp.resolve("missing.onnx")).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).data(tmp.resolve("nope.csv").toString()).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).code("not a file, commit or url").build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model)
                .metricsFile(churn.resolve("metrics.json")).artifact(churn.resolve("metrics.json")).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model)
                .artifact(churn.resolve("model.onnx")).build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).alias("../prod").build(), READER));
        assertUnchanged(InvalidArgumentException.class, () -> registry.register(Registration.builder("churn", model).artifact(churn.resolve("data")).build(), READER));
    }

    @Test
    void unknownVersionsAndAliasesLeaveTheRegistryAsItWas() {
        registerChurn();
        assertUnchanged(ModelNotFoundException.class, () -> registry.setAlias("churn", "production", AliasTarget.single(7)));
        assertUnchanged(ModelNotFoundException.class, () -> registry.setAlias("nosuch", "production", AliasTarget.single(1)));
        assertUnchanged(ModelNotFoundException.class, () -> registry.deleteAlias("churn", "staging"));
        assertUnchanged(ModelNotFoundException.class, () -> registry.deleteVersion("churn", 2, true));
        assertUnchanged(ModelNotFoundException.class, () -> registry.resolve(ModelRef.parse("churn@staging")));
        assertUnchanged(ModelNotFoundException.class, () -> registry.resolve(ModelRef.parse("churn:9")));
        assertUnchanged(InvalidArgumentException.class, () -> registry.setAlias("churn", "../x", AliasTarget.single(1)));
    }

    // ------------------------------------------------------------------ failures in the middle

    @ParameterizedTest
    @EnumSource(RegistryWriter.Step.class)
    void aFailureAtAnyStepLeavesNothingBehind(RegistryWriter.Step failAt) {
        registry.register(Registration.fromFolder("churn", churn).alias("production").build(), READER);
        Map<String, String> before = TreeSnapshot.of(tmp);
        AtomicInteger copies = new AtomicInteger();
        registry.writeHook((step, path) -> {
            // FILE_COPIED: fail on the fifth file, when the staging folder is half full
            if (step == failAt && (step != RegistryWriter.Step.FILE_COPIED || copies.incrementAndGet() == 5)) {
                throw new IOException("injected failure at " + step);
            }
        });
        RegistryException e = assertThrows(RegistryException.class, () -> registry.register(
                Registration.fromFolder("churn", churn).alias("production").description("second").allowDuplicate(true).build(), READER));
        assertTrue(e.getMessage().contains("injected failure at " + failAt), e.getMessage());
        assertEquals(before, TreeSnapshot.of(tmp));

        // and the registry still works: the next registration gets the next number
        registry.writeHook(RegistryWriter.Hook.NONE);
        assertEquals(2, registerChurn().version());
    }

    @Test
    void aFailureAfterTheRenameOfANewModelRemovesTheModelFolderToo() {
        registerChurn();
        Map<String, String> before = TreeSnapshot.of(tmp);
        registry.writeHook((step, path) -> {
            if (step == RegistryWriter.Step.MOVED) {
                throw new IOException("disk full");
            }
        });
        assertThrows(RegistryException.class, () -> registry.register(Registration.fromFolder("other", churn).alias("production").build(), READER));
        assertEquals(before, TreeSnapshot.of(tmp));
        assertEquals(List.of("churn"), registry.models());
    }

    @Test
    void leftoversOfDeadWritersAreSweptButLiveOnesKept() throws IOException {
        registerChurn();
        Path dead = Files.createDirectories(root.resolve(".staging-dead"));
        Files.createFile(dead.resolve(".owner"));
        Files.writeString(dead.resolve("model.onnx"), "half");
        Path trash = Files.createDirectories(root.resolve(".deleting-churn-7-x"));
        Files.writeString(trash.resolve("model.onnx"), "old");
        Path young = Files.createDirectories(root.resolve(".staging-young"));
        Path live = Files.createDirectories(root.resolve(".staging-live"));
        try (var ch = java.nio.channels.FileChannel.open(live.resolve(".owner"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             var lock = ch.lock()) {
            assertEquals(List.of("churn"), registry.models(), "readers ignore hidden folders");
            assertEquals(2, registerChurn().version());
            assertFalse(Files.exists(dead), "owner gone: swept");
            assertFalse(Files.exists(trash), "orphaned trash: swept");
            assertTrue(Files.exists(young), "no owner file yet and recent: could be starting, kept");
            assertTrue(Files.exists(live), "owner lock held: kept");
        }
    }

    // ------------------------------------------------------------------ verify, delete, aliases

    @Test
    void verifyNamesAChangedByteAndAMissingFile() throws IOException {
        registerChurn();
        registerChurn();
        assertTrue(registry.verify().ok());
        assertEquals(2, registry.verify().versions().size());

        Path csv = registry.versionDir("churn", 1).resolve("data/customer_data.csv");
        byte[] bytes = Files.readAllBytes(csv);
        bytes[bytes.length / 2] ^= 1;
        Files.write(csv, bytes);
        Files.delete(registry.versionDir("churn", 2).resolve("training_log.txt"));

        VerifyReport report = registry.verify();
        assertFalse(report.ok());
        assertEquals(2, report.problems().size());
        VerifyReport.Problem changed = report.problems().get(0);
        assertEquals("churn", changed.model());
        assertEquals(1, changed.version());
        assertEquals("data/customer_data.csv", changed.path());
        assertEquals(VerifyReport.Kind.CHANGED, changed.kind());
        VerifyReport.Problem missing = report.problems().get(1);
        assertEquals(2, missing.version());
        assertEquals("training_log.txt", missing.path());
        assertEquals(VerifyReport.Kind.MISSING, missing.kind());

        assertEquals(1, registry.verify("churn", 1).problems().size());
        assertTrue(registry.verify("churn", 1).problems().stream().allMatch(p -> p.version() == 1));

        Files.writeString(registry.versionDir("churn", 2).resolve("manifest.json"), "{broken");
        assertEquals(VerifyReport.Kind.UNREADABLE_MANIFEST, registry.verify("churn", 2).problems().get(0).kind());
    }

    @Test
    void deleteRefusesAnAliasedVersionUnlessForcedAndNeverReusesItsNumber() throws IOException {
        registry.register(Registration.fromFolder("churn", churn).alias("production").build(), READER);
        registerChurn();
        registry.setAlias("churn", "canary", new AliasTarget(List.of(new WeightedVersion(1, 90), new WeightedVersion(2, 10))));

        assertUnchanged(VersionInUseException.class, () -> registry.deleteVersion("churn", 1, false));

        List<String> changed = registry.deleteVersion("churn", 1, true);
        assertEquals(List.of("canary", "production"), changed.stream().sorted().toList());
        assertEquals(List.of(2), registry.versions("churn"));
        ModelInfo info = registry.info("churn");
        assertTrue(info.alias("production").isEmpty(), "an alias left with no version is removed");
        assertEquals(AliasTarget.single(2).targets().get(0).version(), info.alias("canary").orElseThrow().targets().get(0).version());
        assertEquals(1, info.alias("canary").orElseThrow().targets().size());

        registry.deleteVersion("churn", 2, true);
        assertEquals(List.of(), registry.versions("churn"));
        assertEquals(3, registerChurn().version(), "deleted numbers are not handed out again");
        try (var s = Files.list(root)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".deleting")));
        }
    }

    @Test
    void aliasesSetSplitAndDelete() {
        registerChurn();
        registerChurn();
        registry.setAlias("churn", "production", AliasTarget.single(1));
        registry.setAlias("churn", "production", new AliasTarget(List.of(new WeightedVersion(1, 90), new WeightedVersion(2, 10))));
        AliasTarget split = registry.aliases("churn").get("production");
        assertTrue(split.isSplit());
        assertEquals(100, split.totalWeight());
        assertEquals(1, registry.resolve(ModelRef.parse("churn@production")));
        assertEquals(1, registry.resolve(ModelRef.parse("churn")), "a bare name means production");
        registry.deleteAlias("churn", "production");
        assertTrue(registry.aliases("churn").isEmpty());
        assertEquals(2, registry.resolve(ModelRef.parse("churn")), "without production, the highest version");
    }

    @Test
    void concurrentRegistrationsInOneProcessEachGetTheirOwnVersion() throws Exception {
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int tag = i;
                tasks.add(() -> registry.register(Registration.builder("churn", churn.resolve("model.onnx"))
                        .tag("writer", Integer.toString(tag)).allowDuplicate(true).build(), READER).version());
            }
            List<Integer> versions = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(tasks)) {
                versions.add(f.get());
            }
            Collections.sort(versions);
            assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), versions);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), registry.versions("churn"));
        List<String> writers = new ArrayList<>();
        for (int v = 1; v <= n; v++) {
            ModelManifest m = registry.storedManifest("churn", v).orElseThrow();
            assertEquals(v, m.version());
            writers.add(m.tags().get("writer"));
        }
        assertEquals(n, writers.stream().distinct().count(), "each version holds exactly one writer's registration");
    }

    @Test
    void diffShowsWhatChangedBetweenTwoVersions() throws IOException {
        ModelManifest a = registerChurn();
        Path metrics = Files.writeString(tmp.resolve("metrics.json"), "{\"accuracy\": 0.80, \"roc_auc\": 0.8287}");
        Path requirements = Files.writeString(tmp.resolve("requirements.txt"), "numpy==2.5.0\ntorch==2.13.0+cpu\n");
        ModelManifest b = registry.register(Registration.builder("churn", churn.resolve("model.onnx"))
                .metricsFile(metrics).requirementsFile(requirements).build(), READER);

        ManifestDiff diff = ManifestDiff.between(a, b);
        assertEquals("churn:1", diff.left());
        assertEquals("churn:2", diff.right());
        Map<String, ManifestDiff.Entry> byKey = new java.util.HashMap<>();
        diff.entries().forEach(e -> byKey.put(e.section() + "/" + e.key(), e));
        assertTrue(byKey.get("metrics/accuracy").differs());
        assertEquals("0.7833", byKey.get("metrics/accuracy").left());
        assertEquals("0.8", byKey.get("metrics/accuracy").right());
        assertFalse(byKey.get("metrics/roc_auc").differs());
        assertFalse(byKey.get("model/sha256").differs(), "same model file");
        assertEquals("==2.5.0", byKey.get("dependencies/numpy").right());
        assertTrue(byKey.get("dependencies/numpy").differs());
        assertNull(byKey.get("dependencies/onnx").right());
        assertNotNull(byKey.get("data/customer_data.csv").left());
        assertNull(byKey.get("data/customer_data.csv").right());
        assertTrue(byKey.get("signature/input features columns").differs());
        assertTrue(ManifestDiff.between(a, a).identical());
    }

    private void assertUnchanged(Class<? extends Throwable> expected, org.junit.jupiter.api.function.Executable action) {
        Map<String, String> before = TreeSnapshot.of(tmp);
        assertThrows(expected, action);
        assertEquals(before, TreeSnapshot.of(tmp), "the registry (and the inputs) are byte for byte as before");
    }

    @Test
    void modelJsonUsesSnakeCase() throws IOException {
        registry.register(Registration.fromFolder("churn", churn).alias("production").description("d").build(), READER);
        String json = Files.readString(root.resolve("churn/model.json"), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"version_policy\""), json);
        String manifest = Files.readString(root.resolve("churn/1/manifest.json"), StandardCharsets.UTF_8);
        assertTrue(manifest.contains("\"requirements_file\""), manifest);
    }
}
