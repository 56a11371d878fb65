package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.Registration;
import dev.berth.registry.Signature;
import dev.berth.registry.SignatureReader;
import dev.berth.registry.TensorSpec;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Push, pull, list and alias against Debian's docker-registry on loopback. */
class OciRegistryIT {
    /** A stand-in for ONNX Runtime's reader (the oci module does not load models): the churn signature. */
    static final SignatureReader READER = file -> {
        try {
            if (Files.readAllBytes(file)[0] != 0x08) {
                throw new InvalidModelException(file + " is not ONNX");
            }
        } catch (IOException e) {
            throw new InvalidModelException(file + " cannot be read", e);
        }
        return new Signature(List.of(TensorSpec.of("features", DataType.FP32, -1, 8)),
                List.of(TensorSpec.of("probabilities", DataType.FP32, -1, 2), TensorSpec.of("label", DataType.INT64, -1)));
    };
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** churn:1 from the sample, churn:2 with the same data and model but another training log and metrics. */
    static LocalRegistry twoVersions(Path tmp) throws IOException {
        Path sample = Samples.copy(Samples.CHURN, tmp.resolve("sample"));
        LocalRegistry local = LocalRegistry.open(tmp.resolve("models"));
        local.register(Registration.fromFolder("churn", sample).author("ana").description("churn classifier").alias("production").build(), READER);
        Files.writeString(sample.resolve("training_log.txt"), "retrained\n");
        Files.writeString(sample.resolve("metrics.json"), "{\"accuracy\": 0.91, \"roc_auc\": 0.93}");
        local.register(Registration.fromFolder("churn", sample).author("ana").allowDuplicate(true).build(), READER);
        return local;
    }

    static OciClient client(DockerRegistry registry, Optional<Credentials> credentials) {
        return OciClient.create(OciReference.parse(registry.address() + "/ml/churn"), true, credentials);
    }

    @Test
    void twoVersionsSharingDataStoreTheSharedBlobsOnce() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            List<String> skippedFiles = new ArrayList<>();
            OciPusher.Result first = OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            OciPusher.Result second = OciPusher.push(local, "churn", 2, repo, client, new TransferListener() {
                @Override
                public void done(String path, long size, boolean skipped) {
                    if (skipped) {
                        skippedFiles.add(path);
                    }
                }
            });
            assertEquals(first.reference().toString(), registry.address() + "/ml/churn:1");

            // the registry's API: both tags, each manifest's digest as pushed, layers titled with the files' paths
            JsonNode tags = JSON.readTree(registry.get("/v2/ml/churn/tags/list").body());
            assertEquals(Set.of("1", "2"), new HashSet<>(JSON.convertValue(tags.get("tags"), List.class)));
            JsonNode m1 = JSON.readTree(registry.get("/v2/ml/churn/manifests/1").body());
            JsonNode m2 = JSON.readTree(registry.get("/v2/ml/churn/manifests/2").body());
            assertEquals(first.digest(), registry.head("/v2/ml/churn/manifests/1").headers().firstValue("Docker-Content-Digest").orElseThrow());
            assertEquals(OciLayout.ARTIFACT_TYPE, m1.get("artifactType").asText());
            assertEquals(OciLayout.CONFIG_TYPE, m1.path("config").path("mediaType").asText());
            assertEquals("churn", m1.path("annotations").path("dev.berth.model.name").asText());
            assertEquals("0.91", m2.path("annotations").path("dev.berth.metric.accuracy").asText());
            ModelManifest v1 = local.storedManifest("churn", 1).orElseThrow();
            assertEquals(v1.modelFile().sha256(), m1.path("annotations").path("dev.berth.model.sha256").asText());
            Map<String, String> layers1 = layers(m1);
            Map<String, String> layers2 = layers(m2);
            assertEquals(v1.storedFiles().size(), layers1.size());
            for (var f : v1.storedFiles()) {
                assertEquals("sha256:" + f.sha256(), layers1.get(f.path()), f.path());
            }
            // the config blob is manifest.json byte for byte
            byte[] config = registry.get("/v2/ml/churn/blobs/" + m1.path("config").path("digest").asText()).body();
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(local.versionDir("churn", 1).resolve("manifest.json")), config));

            // shared: same digest in both manifests, uploaded once, one blob in storage
            Set<String> shared = new HashSet<>();
            layers1.forEach((path, digest) -> {
                if (digest.equals(layers2.get(path))) {
                    shared.add(path);
                }
            });
            assertTrue(shared.contains("model.onnx") && shared.contains("data/customer_data.csv"), shared.toString());
            assertFalse(shared.contains("training_log.txt"));
            assertEquals(shared, new HashSet<>(skippedFiles), "the second push skipped exactly the shared files");
            assertEquals(layers2.size() - shared.size() + 1, second.uploaded(), "changed layers and the config");
            Set<String> distinct = new HashSet<>(layers1.values());
            distinct.addAll(layers2.values());
            distinct.add(m1.path("config").path("digest").asText());
            distinct.add(m2.path("config").path("digest").asText());
            distinct.add(first.digest());
            distinct.add(second.digest());
            assertEquals(distinct.size(), registry.storedBlobs().size(), "one stored blob per distinct digest");

            // pushing again uploads nothing and gives the same manifest digest
            OciPusher.Result again = OciPusher.push(local, "churn", 1, repo.withTag("1"), client, TransferListener.NONE);
            assertEquals(0, again.uploaded());
            assertEquals(first.digest(), again.digest());
        }
    }

    @Test
    void pullIntoAnEmptyFolderVerifiesAndASecondPullIsANoOp() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            OciPusher.Result two = OciPusher.push(local, "churn", 2, repo, client, TransferListener.NONE);
            RemoteRepository remote = RemoteRepository.of(client, repo);
            remote.moveAlias("production", 2);

            LocalRegistry empty = LocalRegistry.open(tmp.resolve("elsewhere"));
            OciPuller.Result pulled = OciPuller.pull(client, repo.withTag("production"), empty, null, TransferListener.NONE);
            assertTrue(pulled.imported());
            assertEquals(2, pulled.version());
            assertEquals(two.digest(), pulled.digest());
            assertEquals(List.of(2), empty.versions("churn"));
            assertEquals(2, empty.aliases("churn").get("production").primaryVersion());
            assertTrue(empty.verify().ok());
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(local.versionDir("churn", 2).resolve("manifest.json")),
                    Files.readAllBytes(empty.versionDir("churn", 2).resolve("manifest.json"))));
            Snapshot before = Snapshot.of(empty.root());
            OciPuller.Result again = OciPuller.pull(client, repo.withDigest(two.digest()), empty, null, TransferListener.NONE);
            assertFalse(again.imported());
            assertEquals(before, Snapshot.of(empty.root()), "a second pull changes nothing");

            // version 1 by number keeps its number; the next registration continues after the highest
            OciPuller.pull(client, repo.withTag("1"), empty, null, TransferListener.NONE);
            assertEquals(List.of(1, 2), empty.versions("churn"));

            // listing: versions with annotations, the alias resolved, without layers
            RemoteRepository.Listing listing = remote.listing();
            assertEquals(Set.of(1, 2), listing.versions().keySet());
            assertEquals(Map.of("production", 2), listing.aliases());
        }
    }

    @Test
    void aCorruptedBlobInTheRegistrysStorageIsRefusedAndNothingIsKept() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            String digest = "sha256:" + local.storedManifest("churn", 1).orElseThrow().storedFiles().stream()
                    .filter(f -> f.path().equals("data/customer_data.csv")).findFirst().orElseThrow().sha256();
            Path stored = registry.blobFile(digest);
            byte[] bytes = Files.readAllBytes(stored);
            bytes[bytes.length / 2] ^= 1; // one changed bit, same size
            Files.write(stored, bytes);

            LocalRegistry target = LocalRegistry.open(tmp.resolve("target"));
            Files.createDirectories(target.root());
            Snapshot before = Snapshot.of(target.root());
            DigestMismatchException e = assertThrows(DigestMismatchException.class,
                    () -> OciPuller.pull(client, repo.withTag("1"), target, null, TransferListener.NONE));
            assertTrue(e.getMessage().contains(digest), e.getMessage());
            assertEquals(before, Snapshot.of(target.root()), "no version, no staging folder left");
            assertTrue(target.versions("churn").isEmpty());
        }
    }

    @Test
    void basicAuthenticationFromTheDockerConfigFile() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start("ci", "s3cret-pw")) {
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciException anonymous = assertThrows(OciException.class,
                    () -> OciPusher.push(local, "churn", 1, repo, client(registry, Optional.empty()), TransferListener.NONE));
            assertEquals(401, anonymous.status());
            assertTrue(anonymous.getMessage().contains("none is configured"), anonymous.getMessage());

            Path dockerConfig = tmp.resolve("docker");
            Files.createDirectories(dockerConfig);
            Files.writeString(dockerConfig.resolve("config.json"), """
                    {"auths": {"%s": {"auth": "%s"}}}""".formatted(registry.address(),
                    java.util.Base64.getEncoder().encodeToString("ci:wrong".getBytes())));
            Map<String, String> env = Map.of("DOCKER_CONFIG", dockerConfig.toString());
            OciException wrong = assertThrows(OciException.class, () -> OciPusher.push(local, "churn", 1, repo,
                    client(registry, Credentials.lookup(registry.address(), env)), TransferListener.NONE));
            assertTrue(wrong.getMessage().contains("refused the credentials (user 'ci')"), wrong.getMessage());

            Files.writeString(dockerConfig.resolve("config.json"), """
                    {"auths": {"%s": {"auth": "%s"}}}""".formatted(registry.address(),
                    java.util.Base64.getEncoder().encodeToString("ci:s3cret-pw".getBytes())));
            Optional<Credentials> creds = Credentials.lookup(registry.address(), env);
            assertEquals("ci", creds.orElseThrow().username());
            OciPusher.Result pushed = OciPusher.push(local, "churn", 1, repo, client(registry, creds), TransferListener.NONE);
            LocalRegistry other = LocalRegistry.open(tmp.resolve("other"));
            OciPuller.Result pulled = OciPuller.pull(client(registry, creds), repo.withTag("1"), other, null, TransferListener.NONE);
            assertEquals(pushed.digest(), pulled.digest());
            assertTrue(other.verify().ok());
        }
    }

    @Test
    void insecureIsForLoopbackOnlyAndAPushToAnotherTagIsRefused() throws IOException {
        assertThrows(dev.berth.registry.InvalidArgumentException.class,
                () -> OciClient.create(OciReference.parse("registry.example.com/ml/churn"), true, Optional.empty()));
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            var e = assertThrows(dev.berth.registry.InvalidArgumentException.class, () -> OciPusher.push(local, "churn", 1,
                    OciReference.parse(registry.address() + "/ml/churn:production"), client(registry, Optional.empty()), TransferListener.NONE));
            assertTrue(e.getMessage().contains("berth alias"), e.getMessage());
            assertTrue(registry.storedBlobs().isEmpty());
        }
    }

    @Test
    void theMirrorKeepsTheNewestAndTheAliasedVersionsAndDropsTheRest() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            OciPusher.push(local, "churn", 2, repo, client, TransferListener.NONE);
            RemoteRepository.of(client, repo).moveAlias("production", 1);
            Path cache = tmp.resolve("cache");
            try (OciMirror mirror = OciMirror.create(MirrorSource.parseList("oci://" + repo + "?latest=1"), cache, r -> client, java.time.Duration.ZERO)) {
                OciMirror.SourceState first = mirror.sync().get(0);
                assertEquals(List.of(1, 2), first.pulled());
                LocalRegistry cached = LocalRegistry.open(mirror.modelsRoot());
                assertEquals(1, cached.aliases("churn").get("production").primaryVersion());
                assertTrue(cached.verify().ok());
                // shared data is one blob in the cache, hard-linked into both versions
                Path shared1 = cached.versionDir("churn", 1).resolve("data/customer_data.csv");
                Path shared2 = cached.versionDir("churn", 2).resolve("data/customer_data.csv");
                assertEquals(Files.getAttribute(shared1, "unix:ino"), Files.getAttribute(shared2, "unix:ino"));

                RemoteRepository.of(client, repo).moveAlias("production", 2);
                OciMirror.SourceState second = mirror.sync().get(0);
                assertEquals(List.of(), second.pulled());
                assertEquals(List.of(2), cached.versions("churn"), "version 1 is neither newest nor aliased any more");
                assertEquals(2, cached.aliases("churn").get("production").primaryVersion());
            }
        }
    }

    @Test
    void aPullThatFailsMidWayLeavesTheCacheAsItWasAndTheNextSyncCatchesUp() throws IOException {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            OciPusher.push(local, "churn", 2, repo, client, TransferListener.NONE);
            // version 2's own training log, changed in the registry's storage: its pull fails after other files arrived
            String digest = "sha256:" + local.storedManifest("churn", 2).orElseThrow().storedFiles().stream()
                    .filter(f -> f.path().equals("training_log.txt")).findFirst().orElseThrow().sha256();
            Path stored = registry.blobFile(digest);
            byte[] good = Files.readAllBytes(stored);
            byte[] bad = good.clone();
            bad[0] ^= 1;
            Files.write(stored, bad);
            Path cache = tmp.resolve("cache");
            try (OciMirror mirror = OciMirror.create(MirrorSource.parseList("oci://" + repo), cache, r -> client, java.time.Duration.ZERO)) {
                OciMirror.SourceState state = mirror.sync().get(0);
                assertFalse(state.reached());
                assertTrue(state.error().contains(digest), state.error());
                LocalRegistry cached = LocalRegistry.open(mirror.modelsRoot());
                assertEquals(List.of(1), cached.versions("churn"), "version 1 arrived whole, version 2 not at all");
                assertTrue(cached.verify().ok());
                try (Stream<Path> all = Files.walk(cache)) {
                    List<String> leftovers = all.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".staging-") || n.endsWith(".tmp")).toList();
                    assertEquals(List.of(), leftovers);
                }
                assertFalse(Files.exists(cache.resolve("blobs/sha256").resolve(digest.substring(7))), "a bad blob never gets its name");

                Files.write(stored, good); // the registry is repaired: the next sync brings version 2
                OciMirror.SourceState again = mirror.sync().get(0);
                assertTrue(again.reached(), String.valueOf(again.error()));
                assertEquals(List.of(2), again.pulled());
                assertTrue(cached.verify().ok());
            }
        }
    }

    @Test
    void reportsFromTwoWritersAtOnceAreBothReferrersOfTheVersion() throws Exception {
        LocalRegistry local = twoVersions(tmp);
        try (DockerRegistry registry = DockerRegistry.start()) {
            OciClient client = client(registry, Optional.empty());
            OciReference repo = OciReference.parse(registry.address() + "/ml/churn");
            OciPusher.Result v1 = OciPusher.push(local, "churn", 1, repo, client, TransferListener.NONE);
            long size = client.manifest("ml/churn", v1.digest()).orElseThrow().bytes().length;
            int perWriter = 5;
            Map<String, List<OciReports.Pushed>> mine = new java.util.concurrent.ConcurrentHashMap<>();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
                List<java.util.concurrent.Future<?>> writes = new ArrayList<>();
                for (String source : List.of("replica-a", "replica-b")) {
                    writes.add(pool.submit(() -> {
                        for (int i = 0; i < perWriter; i++) {
                            mine.computeIfAbsent(source, s -> new ArrayList<>()).add(OciReports.push(client, "ml/churn", v1.digest(), size,
                                    "r" + i + ".json", ("{\"from\":\"" + source + "\",\"n\":" + i + "}").getBytes(), source,
                                    java.time.Instant.now()));
                        }
                        return null;
                    }));
                }
                for (var w : writes) {
                    w.get();
                }
            }
            // racing writers may have dropped each other's entries (no conditional PUT): each writer's next
            // poll adds its own back, after which the index is complete
            int repaired = OciReports.ensureListed(client, "ml/churn", v1.digest(), mine.get("replica-a"))
                    + OciReports.ensureListed(client, "ml/churn", v1.digest(), mine.get("replica-b"));
            System.out.println("referrers tag: " + repaired + " entries dropped by racing writers and added back");
            assertEquals(0, OciReports.ensureListed(client, "ml/churn", v1.digest(), mine.get("replica-a")));
            List<OciReports.Report> reports = OciReports.list(client, "ml/churn", v1.digest());
            assertEquals(2 * perWriter, reports.size(), reports.toString());
            assertEquals(Set.of("replica-a", "replica-b"), new HashSet<>(reports.stream().map(OciReports.Report::source).toList()));
            String body = new String(OciReports.fetch(client, "ml/churn", reports.get(0)));
            assertTrue(body.startsWith("{\"from\":\"replica-"), body);
            // the version itself is untouched: same tag, same digest, still a berth version
            assertEquals(v1.digest(), client.manifestDigest("ml/churn", "1").orElseThrow());
            assertEquals(List.of(1), RemoteRepository.of(client, repo).versionTags());
        }
    }

    private static Map<String, String> layers(JsonNode manifest) {
        Map<String, String> byPath = new java.util.LinkedHashMap<>();
        for (JsonNode l : manifest.path("layers")) {
            assertEquals(OciLayout.FILE_TYPE, l.path("mediaType").asText());
            byPath.put(l.path("annotations").path(OciLayout.TITLE).asText(), l.path("digest").asText());
        }
        return byPath;
    }

    /** Every path under a folder with its size and modification time. */
    record Snapshot(Map<String, String> entries) {
        static Snapshot of(Path root) throws IOException {
            Map<String, String> entries = new java.util.TreeMap<>();
            if (Files.exists(root)) {
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path p : (Iterable<Path>) files::iterator) {
                        entries.put(root.relativize(p).toString(), Files.isDirectory(p) ? "dir"
                                : Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
                    }
                }
            }
            return new Snapshot(entries);
        }
    }
}
