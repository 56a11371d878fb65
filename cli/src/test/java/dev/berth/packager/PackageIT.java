package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.ServingJars;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packages the churn sample with the real command and checks what a real registry received:
 * manifest, config, labels, layer order and contents; a second version re-sends only the model
 * layer; packaging twice gives the same digest; a tarball loads into podman.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PackageIT {
    private static final String SOURCE = "org.opencontainers.image.source=https://git.example.com/ml/churn";
    private PackagingFixture fixture;
    private LocalOciRegistry registry;
    private Path temp;
    private Path models;
    private String base;
    private final Map<String, String> digests = new LinkedHashMap<>();

    @BeforeAll
    void setUp() throws IOException {
        fixture = PackagingFixture.start("berth-package-it-", true, false);
        temp = fixture.temp();
        models = fixture.models();
        registry = fixture.registry();
        base = fixture.baseImage();
    }

    @AfterAll
    void tearDown() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private Cli.Run pack(String model, String image, String... extra) {
        List<String> args = new ArrayList<>(List.of(model, "--image", image, "--base-image", base, "--insecure-registry",
                "--models", models.toString(), "--work-dir", temp.resolve("work").toString()));
        args.addAll(List.of(extra));
        Cli.Run run = Cli.packageCommand(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.describe());
        return run;
    }

    @Test
    @Order(1)
    void pushesImageWithLabelsLayersAndMetadata() throws IOException {
        String image = registry.address() + "/models/churn:1";
        Cli.Run run = pack("churn:1", image, "--label", "team=growth", "--label", SOURCE, "--k8s", temp.resolve("k8s").toString());
        String digest = run.lastLine();
        assertTrue(digest.matches("sha256:[0-9a-f]{64}"), run.describe());
        // not a terminal here: plain progress lines with layers and bytes
        assertTrue(run.err().lines().anyMatch(l -> l.matches(".*pushing +layers \\d+/\\d+ +[0-9.]+ (B|KiB|MiB) / [0-9.]+ MiB")), run.err());
        assertFalse(run.err().contains("\r"), "no redrawing outside a terminal");
        assertEquals(registry.manifestDigest("models/churn", "1"), digest, "printed digest is the pushed manifest's");
        digests.put("churn:1", digest);

        JsonNode manifest = registry.manifest("models/churn", "1");
        assertEquals(LocalOciRegistry.OCI_MANIFEST, manifest.path("mediaType").asText());
        JsonNode baseManifest = registry.manifest("berth-test/base", "1");
        JsonNode layers = manifest.path("layers");
        int baseLayers = baseManifest.path("layers").size();
        assertEquals(baseLayers + 3, layers.size(), "base layers, then dependencies, berth, model");
        for (int i = 0; i < baseLayers; i++) {
            assertEquals(baseManifest.path("layers").get(i).path("digest").asText(), layers.get(i).path("digest").asText(),
                    "base layers come first, unchanged");
        }

        List<String> dependencies = entries(blob(layers.get(baseLayers)));
        List<String> own = entries(blob(layers.get(baseLayers + 1)));
        List<String> model = entries(blob(layers.get(baseLayers + 2)));
        ServerJars dist = ServingJars.locate();
        assertEquals(dist.thirdPartyJars().size(), dependencies.stream().filter(e -> e.endsWith(".jar")).count());
        assertTrue(dependencies.stream().filter(e -> e.endsWith(".jar")).allMatch(e -> e.startsWith("app/lib/") && !e.startsWith("app/lib/berth-")),
                dependencies.toString());
        assertTrue(own.stream().filter(e -> e.endsWith(".jar")).allMatch(e -> e.startsWith("app/lib/berth-")), own.toString());
        assertTrue(own.contains("app/lib/berth-server-" + dist.version() + ".jar"), own.toString());
        assertTrue(own.contains("app/lib/berth-serve-" + dist.version() + ".jar"), own.toString());
        // only what serving needs: none of the jars that only packaging, inspecting or charting use
        List<String> jars = new ArrayList<>(dependencies);
        jars.addAll(own);
        jars.removeIf(e -> !e.endsWith(".jar"));
        for (String packagingOnly : List.of("app/berth.jar", "app/lib/berth-cli-", "app/lib/berth-packager-", "app/lib/jib-core-",
                "app/lib/jfreechart-", "app/lib/org.jfree.svg-", "app/lib/commons-compress-", "app/lib/google-http-client-")) {
            assertFalse(jars.stream().anyMatch(e -> e.startsWith(packagingOnly)), packagingOnly + " in the image: " + jars);
        }
        // ...which the command line that packaged it does have beside the serving jars
        try (var cliLib = Files.list(dist.classPath().get(0).getParent())) {
            List<String> names = cliLib.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("jib-core-")) && names.stream().anyMatch(n -> n.startsWith("jfreechart-")),
                    names.toString());
        }
        for (String expected : List.of("models/churn/1/model.onnx", "models/churn/1/manifest.json", "models/churn/1/metrics.json",
                "models/churn/1/requirements.txt", "models/churn/model.json", "berth/manifest.json", "berth/dependencies.json")) {
            assertTrue(model.contains(expected), expected + " in " + model);
        }
        assertFalse(model.stream().anyMatch(e -> e.startsWith("models/churn/2")), "only the packaged version");

        JsonNode config = registry.json(registry.blob("models/churn", manifest.path("config").path("digest").asText()));
        JsonNode c = config.path("config");
        assertEquals("65532:65532", c.path("User").asText());
        assertTrue(c.path("ExposedPorts").has("8080/tcp") && c.path("ExposedPorts").has("8081/tcp"), c.toString());
        assertEquals("java", c.path("Entrypoint").get(0).asText());
        JsonNode entrypoint = c.path("Entrypoint");
        assertEquals("dev.berth.cli.ServeMain", entrypoint.get(entrypoint.size() - 1).asText(), "the serving main: " + entrypoint);
        assertEquals("/app/lib/*", entrypoint.get(entrypoint.size() - 2).asText(), entrypoint.toString());
        assertTrue(c.path("Entrypoint").toString().contains("--enable-native-access=ALL-UNNAMED"));
        assertTrue(c.path("Entrypoint").toString().contains("-Donnxruntime.native.path=/app/native"), "natives loaded in place: " + c.path("Entrypoint"));
        assertEquals("[\"serve\",\"--models\",\"/models\",\"--host\",\"0.0.0.0\"]", c.path("Cmd").toString());
        assertTrue(c.path("Env").toString().contains("\"PORT=8080\""), c.path("Env").toString());
        assertTrue(c.path("Env").toString().contains("\"BERTH_GRPC_PORT=8081\""), c.path("Env").toString());
        assertTrue(c.path("Env").toString().contains("\"ORT_DISABLE_TELEMETRY=1\""), "ONNX Runtime 1.29 telemetry off: " + c.path("Env"));
        ModelManifest stored = LocalRegistry.open(models).storedManifest("churn", 1).orElseThrow();
        assertEquals(stored.created(), Instant.parse(config.path("created").asText()), "the image is as old as the version");
        JsonNode labels = c.path("Labels");
        assertEquals(stored.created(), Instant.parse(labels.path("org.opencontainers.image.created").asText()));
        assertEquals("1", labels.path("org.opencontainers.image.version").asText());
        assertEquals("churn:1", labels.path("org.opencontainers.image.title").asText());
        assertEquals(stored.description(), labels.path("org.opencontainers.image.description").asText());
        assertTrue(labels.path("org.opencontainers.image.revision").asText().startsWith("sha256:"));
        assertEquals("https://git.example.com/ml/churn", labels.path("org.opencontainers.image.source").asText(),
                "a --label wins over berth's own");
        assertEquals("churn", labels.path("dev.berth.model.name").asText());
        assertEquals("1", labels.path("dev.berth.model.version").asText());
        assertEquals(DependencyManifest.sha256(models.resolve("churn/1/model.onnx")), labels.path("dev.berth.model.sha256").asText());
        assertEquals("0.7833", labels.path("dev.berth.model.metric.accuracy").asText());
        assertTrue(labels.path("dev.berth.model.metrics").asText().contains("roc_auc=0.8287"), labels.toString());
        assertEquals("growth", labels.path("team").asText());

        JsonNode deps = registry.json(fileInLayer(blob(layers.get(baseLayers + 2)), "berth/dependencies.json"));
        assertEquals(dev.berth.runtime.onnx.OrtNatives.environment().getVersion(), deps.path("runtime").path("onnxruntime").asText(),
                "the image records the ONNX Runtime it ships");
        assertEquals(base, deps.path("runtime").path("base_image").asText());
        assertEquals(dist.thirdPartyJars().size() + dist.berthJars().size(), deps.path("jars").size());
        assertTrue(deps.path("jars").toString().contains("\"artifact_id\":\"helidon-webserver\""), "jars are named by Maven coordinates");
        assertTrue(deps.path("training").path("requirements").toString().contains("numpy==2.4.6"));
        JsonNode ort = null;
        for (JsonNode jar : deps.path("jars")) {
            if (jar.path("artifact_id").asText().equals("onnxruntime")) {
                ort = jar;
            }
        }
        assertTrue(ort != null && ort.path("note").asText().startsWith("natives removed by berth package"), deps.path("jars").toString());
        Path hostOrt = dist.thirdPartyJars().stream().filter(OnnxRuntimeJar::isOnnxRuntime).findFirst().orElseThrow();
        assertTrue(ort.path("size").asLong() < Files.size(hostOrt) / 2, "the image's ONNX Runtime jar has no natives (the Linux ones are files in /app/native)");
        JsonNode packedManifest = registry.json(fileInLayer(blob(layers.get(baseLayers + 2)), "berth/manifest.json"));
        assertEquals(1, packedManifest.path("version").asInt());
        assertEquals(stored.modelFile().sha256(), packedManifest.at("/files/0/sha256").asText());
        JsonNode packedInfo = registry.json(fileInLayer(blob(layers.get(baseLayers + 2)), "models/churn/model.json"));
        assertEquals(List.of("production"), iterate(packedInfo.path("aliases").fieldNames()),
                "only aliases of the packaged version: staging points at 2, which the image does not hold");

        assertTrue(Files.readString(temp.resolve("k8s/deployment.yaml")).contains(registry.address() + "/models/churn@" + digest));
    }

    @Test
    @Order(2)
    void secondVersionResendsOnlyTheModelLayer() throws IOException {
        Cli.Run run = pack("churn:2", registry.address() + "/models/churn:2");
        JsonNode v1 = registry.manifest("models/churn", "1").path("layers");
        JsonNode v2 = registry.manifest("models/churn", "2").path("layers");
        assertEquals(v1.size(), v2.size());
        for (int i = 0; i < v1.size() - 1; i++) {
            assertEquals(v1.get(i).path("digest").asText(), v2.get(i).path("digest").asText(), "layer " + i + " is shared");
        }
        JsonNode last = v2.get(v2.size() - 1);
        assertNotEquals(v1.get(v1.size() - 1).path("digest").asText(), last.path("digest").asText());
        // the summary line says what was sent: the model layer and the image config, nothing else
        String summary = run.outLines().get(0);
        assertTrue(summary.contains("(2 blobs sent"), run.describe());
        long configSize = registry.manifest("models/churn", "2").path("config").path("size").asLong();
        long modelLayer = last.path("size").asLong();
        long total = 0;
        for (JsonNode layer : v2) {
            total += layer.path("size").asLong();
        }
        List<Long> sizes = new ArrayList<>();
        v2.forEach(l -> sizes.add(l.path("size").asLong()));
        System.out.printf("new version: re-pushed %d bytes (model layer %d + config %d) of an image of %d bytes compressed; layer sizes %s%n",
                modelLayer + configSize, modelLayer, configSize, total, sizes);
        assertTrue(modelLayer + configSize < total / 20, "a new version re-sends a small fraction of the image");
    }

    @Test
    @Order(3)
    void sameVersionTwiceGivesTheSameDigest() throws IOException {
        String first = registry.manifestDigest("models/churn", "1");
        // a fresh cache, another tag, another time, and a monitoring report the server wrote since: nothing may leak in
        LocalRegistry.open(models).writeMonitoringReport("churn", 1, "2026-11-23T00-00-00Z.json", "{}".getBytes());
        Cli.Run run = Cli.packageCommand("churn@production", "--image", registry.address() + "/again/churn:one", "--base-image", base,
                "--insecure-registry", "--models", models.toString(), "--work-dir", temp.resolve("work2").toString(),
                "--label", "team=growth", "--label", SOURCE);
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(first, run.lastLine());
    }

    @Test
    @Order(4)
    void tarOutputFromTarBaseLoadsIntoPodman() throws IOException {
        Path tar = temp.resolve("churn-1.tar");
        Path k8s = temp.resolve("k8s-tar");
        Cli.Run run = Cli.packageCommand("churn:1", "--image", "berth-test/churn:1", "--to", "tar:" + tar,
                "--base-image", "tar:" + OfflineBaseImage.dockerArchive(), "--models", models.toString(),
                "--work-dir", temp.resolve("work").toString(), "--k8s", k8s.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.lastLine().matches("sha256:[0-9a-f]{64}"));
        // a tar has no layers to push and Jib counts it in units, not bytes: no "layers 0/0  0 B / 1 B"
        assertTrue(run.err().lines().noneMatch(l -> l.contains("layers 0/0") || l.matches(".* / 1 B")), run.describe());
        assertTrue(run.err().lines().anyMatch(l -> l.matches("\\[[= ]+\\] +\\d+% writing tar")), run.describe());
        // no registry holds the local digest: the manifests use the tag given, and say how to pin the pushed one
        String deployment = Files.readString(k8s.resolve("deployment.yaml"));
        assertTrue(deployment.contains("image: berth-test/churn:1") && !deployment.contains("@sha256:"), deployment);
        assertTrue(run.out().contains("skopeo inspect --format '{{.Digest}}' docker://berth-test/churn:1"), run.describe());
        // the default content is said at package time
        assertTrue(run.err().contains("image content: the model, its manifest and artifacts; left out: data (")
                && run.err().contains("(the default; --include data,code,logs keeps them)"), run.describe());
        try (Podman podman = Podman.start(List.of(registry.address()))) {
            String loaded = podman.run("load", "-i", tar.toString());
            assertTrue(loaded.contains("berth-test/churn:1"), loaded);
            String labels = podman.run("image", "inspect", "--format", "{{index .Labels \"dev.berth.model.name\"}} {{.User}}",
                    "berth-test/churn:1");
            assertEquals("churn 65532:65532", labels.trim());
        }
    }

    @Test
    @Order(5)
    void plainModelFolderWithoutManifestThroughTheApi() throws IOException {
        // a Triton-style registry: only <name>/<version>/model.onnx, no manifest or model.json
        Path plain = temp.resolve("plain");
        Files.createDirectories(plain.resolve("scorer/4"));
        Files.copy(models.resolve("churn/1/model.onnx"), plain.resolve("scorer/4/model.onnx"));
        Path tar = temp.resolve("scorer.tar");
        List<PackageProgress> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
        PackageResult result = ImagePackager.builder()
                .registry(LocalRegistry.open(plain))
                .model(ModelRef.parse("scorer"))
                .image("berth-test/scorer:4")
                .server(ServingJars.locate())
                .target(ImageTarget.tar(tar))
                .baseImage(new BaseImage.Tar(OfflineBaseImage.dockerArchive()))
                .workDirectory(temp.resolve("work"))
                .listener(new PackageListener() {
                    @Override
                    public void progress(PackageProgress p) {
                        progress.add(p);
                    }
                })
                .build()
                .packageImage();
        assertEquals(4, result.modelVersion());
        String sha = DependencyManifest.sha256(plain.resolve("scorer/4/model.onnx"));
        assertEquals(sha, result.labels().get("dev.berth.model.sha256"));
        assertEquals("1970-01-01T00:00:00Z", result.labels().get("org.opencontainers.image.created"),
                "no registration time: the epoch, so the digest is still reproducible");
        assertTrue(progress.stream().anyMatch(p -> p.phase().equals("writing tar")), progress.toString());
        // Jib counts a tar in its own units (the whole tar is "1"), not bytes: no byte count is claimed for it
        assertTrue(progress.stream().filter(p -> p.phase().equals("writing tar")).allMatch(p -> p.bytesTotal() == 0), progress.toString());
        assertEquals(1.0, progress.get(progress.size() - 1).fraction(), 0.01);

        byte[] modelLayer = lastLayerOfDockerArchive(tar);
        JsonNode manifest = registry.json(fileInLayer(modelLayer, "berth/manifest.json"));
        assertEquals("scorer", manifest.path("name").asText());
        assertEquals(sha, manifest.at("/files/0/sha256").asText());
        assertTrue(entries(modelLayer).contains("models/scorer/4/model.onnx"));
    }

    /** The last layer listed in a docker-archive's manifest.json. */
    private static byte[] lastLayerOfDockerArchive(Path tar) throws IOException {
        Map<String, byte[]> files = new java.util.HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.isFile()) {
                    files.put(e.getName().replaceFirst("^\\./", "").replaceFirst("^/", ""), in.readAllBytes());
                }
            }
        }
        if (!files.containsKey("manifest.json")) {
            throw new AssertionError("no manifest.json in the docker-archive: " + files.keySet());
        }
        JsonNode manifest = new com.fasterxml.jackson.databind.ObjectMapper().readTree(files.get("manifest.json"));
        JsonNode layers = manifest.get(0).path("Layers");
        return files.get(layers.get(layers.size() - 1).asText());
    }

    private byte[] blob(JsonNode descriptor) throws IOException {
        return registry.blob("models/churn", descriptor.path("digest").asText());
    }

    /** Entry names of a gzipped layer tarball, without a leading slash, files only. */
    static List<String> entries(byte[] layer) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(layer)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()) {
                    names.add(e.getName().replaceFirst("^/", ""));
                }
            }
        }
        return names;
    }

    static byte[] fileInLayer(byte[] layer, String name) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(layer)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.getName().replaceFirst("^/", "").equals(name)) {
                    return tar.readAllBytes();
                }
            }
        }
        throw new AssertionError(name + " not in layer");
    }

    static List<String> iterate(java.util.Iterator<String> names) {
        List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }
}
