package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real {@code berth} commands, run in-process with captured output, on real files and ONNX Runtime. */
class CliTest {
    @TempDir
    Path tmp;
    Path churn;
    Path digits;
    Path models;

    record Result(int code, String out, String err) {
        String lastLine() {
            List<String> lines = out.lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }
    }

    @BeforeEach
    void setUp() {
        churn = Samples.copy(Samples.CHURN, tmp.resolve("samples/churn"));
        digits = Samples.copy(Samples.DIGITS, tmp.resolve("samples/digits"));
        models = tmp.resolve("models");
    }

    Result berth(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (all.stream().noneMatch(a -> a.equals("--models")) && !all.isEmpty() && !all.get(0).startsWith("-")
                && !List.of("help", "bogus").contains(all.get(0))) {
            all.add("--models");
            all.add(models.toString());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    Result ok(String... args) {
        Result r = berth(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    @Test
    void registerPrintsTheNewVersionLastAndShowJsonIsTheManifestItself() throws IOException {
        Result first = ok("register", churn.toString(), "--name", "churn", "--alias", "production");
        assertEquals("1", first.lastLine());
        assertEquals("2", ok("register", churn.toString(), "--name", "churn", "--allow-duplicate").lastLine());

        Result show = ok("show", "churn:1", "--json");
        assertEquals(Files.readString(models.resolve("churn/1/manifest.json")).strip(), show.out().strip());
        ModelManifest m = RegistryJson.mapper().readValue(show.out(), ModelManifest.class);
        assertEquals("churn", m.name());
        assertEquals(1, m.version());
        assertEquals(9, m.artifacts().size() + m.files().size());

        // the signature as ONNX Runtime reads it, enriched from lineage.json
        var in = m.signature().inputs();
        var out = m.signature().outputs();
        assertEquals(1, in.size());
        assertEquals("features", in.get(0).name());
        assertEquals("FP32", in.get(0).datatype().name());
        assertEquals(List.of(-1L, 8L), in.get(0).shape());
        assertEquals(8, in.get(0).columns().size());
        assertEquals(2, out.size());
        assertEquals("probabilities", out.get(0).name());
        assertEquals("FP32", out.get(0).datatype().name());
        assertEquals(List.of(-1L, 2L), out.get(0).shape());
        assertEquals(List.of("stays", "churns"), out.get(0).labels());
        assertEquals("label", out.get(1).name());
        assertEquals("INT64", out.get(1).datatype().name());
        assertEquals(List.of(-1L), out.get(1).shape());
        // what registered it
        assertTrue(m.dependencies().runtime().get("onnxruntime").matches("\\d+\\.\\d+\\.\\d+.*"), m.dependencies().runtime().toString());
        assertEquals(Runtime.version().toString(), m.dependencies().runtime().get("java"));

        // a bare name is the production alias
        assertEquals(show.out(), ok("show", "churn@production", "--json").out());
        assertTrue(ok("show", "churn", "--json").out().contains("\"version\" : 1,"));
    }

    @Test
    void digitsSignature() throws IOException {
        assertEquals("1", ok("register", digits.toString(), "--name", "digits").lastLine());
        ModelManifest m = RegistryJson.mapper().readValue(ok("show", "digits", "--json").out(), ModelManifest.class);
        assertEquals("pixels", m.signature().inputs().get(0).name());
        assertEquals("FP32", m.signature().inputs().get(0).datatype().name());
        assertEquals(List.of(-1L, 64L), m.signature().inputs().get(0).shape());
        assertEquals(List.of(-1L, 10L), m.signature().output("probabilities").orElseThrow().shape());
        assertEquals("INT64", m.signature().output("label").orElseThrow().datatype().name());
        assertEquals(0.9861, ((Number) m.metrics().get("accuracy")).doubleValue());
        assertEquals("digits.csv", m.lineage().data().get(0).name());
    }

    @Test
    void registerAModelFileWithEveryOption() throws IOException {
        Path params = Files.writeString(tmp.resolve("params.yaml"), "learning_rate: 0.01\n");
        Result r = ok("register", churn.resolve("model.onnx").toString(), "--name", "churn-lr",
                "--description", "logistic baseline", "--author", "ana", "--tag", "team=growth", "--tag", "stage=dev",
                "--metrics", churn.resolve("metrics.json").toString(), "--params", params.toString(),
                "--requirements", churn.resolve("requirements.txt").toString(),
                "--signature", churn.resolve("lineage.json").toString(),
                "--data", churn.resolve("data/customer_data.csv").toString(), "--data", "s3://bucket/churn/2026-01.parquet",
                "--code", "https://example.org/churn.git",
                "--artifact", churn.resolve("confusion_matrix.png").toString(), "--alias", "staging");
        assertEquals("1", r.lastLine());
        ModelManifest m = LocalRegistry.open(models).storedManifest("churn-lr", 1).orElseThrow();
        assertEquals("logistic baseline", m.description());
        assertEquals("ana", m.author());
        assertEquals(Map.of("team", "growth", "stage", "dev"), m.tags());
        assertEquals(0.01, ((Number) m.params().get("learning_rate")).doubleValue());
        assertEquals("https://example.org/churn.git", m.lineage().code().uri());
        assertEquals("s3://bucket/churn/2026-01.parquet", m.lineage().data().get(1).uri());
        // lineage.json's fingerprint for the data file that was not supplied is kept
        assertTrue(m.lineage().data().stream().anyMatch(d -> d.name().equals("processed_customer_data.csv") && d.path() == null
                && d.sha256().startsWith("3d53e167")));
        assertEquals(1, LocalRegistry.open(models).aliases("churn-lr").get("staging").primaryVersion());
        assertEquals("logistic baseline", LocalRegistry.open(models).info("churn-lr").description());
    }

    @Test
    void listShowsVersionsAliasesAndHeadlineMetric() throws IOException {
        ok("register", churn.toString(), "--name", "churn", "--alias", "production");
        ok("register", digits.toString(), "--name", "digits");
        String table = ok("list").out();
        List<String> lines = table.lines().toList();
        assertTrue(lines.get(0).startsWith("MODEL"));
        assertTrue(lines.get(1).matches("churn\\s+1\\s+production->1\\s+accuracy 0\\.7833 \\(v1\\).*"), lines.get(1));
        assertTrue(lines.get(2).matches("digits\\s+1\\s+-\\s+accuracy 0\\.9861 \\(v1\\).*"), lines.get(2));

        JsonNode json = RegistryJson.mapper().readTree(ok("list", "--json").out());
        assertEquals(2, json.size());
        assertEquals("churn", json.get(0).get("name").asText());
        assertEquals(1, json.get(0).get("aliases").get("production").get("targets").get(0).get("version").asInt());
        assertEquals("accuracy", json.get(1).get("headline").get("metric").asText());
        assertEquals(0.9861, json.get(1).get("headline").get("value").asDouble());

        // an existing empty folder is an empty registry (a missing one is an error: MissingRegistryTest)
        Files.createDirectories(tmp.resolve("empty"));
        assertEquals("no models in " + tmp.resolve("empty").toAbsolutePath(),
                ok("list", "--models", tmp.resolve("empty").toString()).out().strip());
    }

    @Test
    void showTextHasEverySectionAndTheMonitoringReports() throws IOException {
        ok("register", churn.toString(), "--name", "churn", "--tag", "team=growth");
        LocalRegistry.open(models).writeMonitoringReport("churn", 1, "2026-11-23T02-00-00Z.json", "{}".getBytes(StandardCharsets.UTF_8));
        String out = ok("show", "churn:1").out();
        for (String section : List.of("churn:1", "files", "signature", "metrics", "params", "dependencies", "lineage", "artifacts", "monitoring reports")) {
            assertTrue(out.lines().anyMatch(l -> l.equals(section)), "section " + section + " in\n" + out);
        }
        assertTrue(out.contains("team=growth"));
        assertTrue(out.contains("input   features       FP32 [-1, 8]  columns: tenure_months"), out);
        assertTrue(out.contains("accuracy"));
        assertTrue(out.contains("churn/1/monitoring/2026-11-23T02-00-00Z.json"), out);
    }

    @Test
    void showSaysHowTheVersionIsLaidOutOnSessionsAndThreads() throws IOException {
        ok("register", churn.toString(), "--name", "churn");
        assertTrue(ok("show", "churn:1").out().contains("serving layout     auto: measured when a server first loads it (until then 1 x 1"),
                ok("show", "churn:1").out());
        LocalRegistry.open(models).writeServingLayout("churn", 1, new dev.berth.registry.ServingLayout(
                dev.berth.registry.ServingLayout.FORMAT, java.time.Instant.parse("2026-12-07T17:00:00Z"), 2, 2, 1, 420,
                "generated inputs, 8 rows", "2 x 1 ran 1.60 x the runs per second of 1 x 1",
                List.of(new dev.berth.registry.ServingLayout.Candidate(1, 1, 2500), new dev.berth.registry.ServingLayout.Candidate(2, 1, 4000))));
        String out = ok("show", "churn:1").out();
        assertTrue(out.contains("serving layout     2 sessions x 1 intra-op thread (measured 2026-12-07T17:00:00Z on 2 cores, one run 420 us;"
                + " 1 x 1: 2500 runs/s; 2 x 1: 4000 runs/s): 2 x 1 ran 1.60 x"), out);
        java.nio.file.Files.writeString(models.resolve("churn/model.json"), "{\"serving\": {\"sessions\": 3}}");
        assertTrue(ok("show", "churn:1").out().contains("serving layout     fixed by the serving config: 3 x 1"), ok("show", "churn:1").out());
    }

    @Test
    void diffMarksTheRowsThatDiffer() throws IOException {
        ok("register", churn.toString(), "--name", "churn");
        Path better = Files.writeString(tmp.resolve("metrics.json"), "{\"accuracy\": 0.81, \"roc_auc\": 0.8287}");
        ok("register", churn.resolve("model.onnx").toString(), "--name", "churn", "--metrics", better.toString());
        String out = ok("diff", "churn:1", "churn:2").out();
        assertTrue(out.lines().anyMatch(l -> l.matches("\\*\\s+accuracy\\s+0\\.7833\\s+0\\.81")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches(" \\s+roc_auc\\s+0\\.8287\\s+0\\.8287")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\*\\s+customer_data\\.csv\\s+5233f0a0\\S*\\s+-")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches(" \\s+sha256\\s+\\S+\\s+\\S+")), "same model file: unmarked\n" + out);
        assertTrue(out.strip().endsWith("differences"));

        String only = ok("diff", "churn:1", "churn:2", "--only-differences").out();
        assertFalse(only.contains("roc_auc"));
        JsonNode json = RegistryJson.mapper().readTree(ok("diff", "churn:1", "churn:2", "--json").out());
        assertEquals("churn:1", json.get("left").asText());

        ok("register", digits.toString(), "--name", "digits");
        String across = ok("diff", "churn:1", "digits:1").out();
        assertTrue(across.lines().anyMatch(l -> l.matches("\\*\\s+input pixels\\s+-\\s+FP32 \\[-1, 64]")), across);
    }

    @Test
    void verifyExitsOneAndNamesAChangedByte() throws IOException {
        ok("register", churn.toString(), "--name", "churn");
        ok("register", digits.toString(), "--name", "digits");
        Result clean = ok("verify");
        assertTrue(clean.out().contains("verified 2 versions"), clean.out());

        Path model = models.resolve("churn/1/model.onnx");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length - 1] ^= 0x01;
        Files.write(model, bytes);

        Result bad = berth("verify");
        assertEquals(1, bad.code());
        assertEquals(List.of("CHANGED churn:1 model.onnx: content changed (same size)"), bad.err().lines().toList());
        assertTrue(bad.out().contains("FAILED churn:1"));
        assertTrue(bad.out().contains("ok     digits:1"));
        assertEquals(0, berth("verify", "digits").code());
        assertEquals(1, berth("verify", "churn:1").code());
    }

    @Test
    void aliasSetSplitAndDelete() {
        ok("register", churn.toString(), "--name", "churn");
        ok("register", churn.toString(), "--name", "churn", "--allow-duplicate");
        assertEquals("churn@production -> 1", ok("alias", "churn", "production", "1").out().strip());
        assertEquals("churn@production -> 1 (90), 2 (10)", ok("alias", "churn", "production", "1=90", "2=10").out().strip());
        assertTrue(ok("list").out().contains("production->1 (90), 2 (10)"));
        ok("alias", "churn", "production", "--delete");
        assertTrue(LocalRegistry.open(models).aliases("churn").isEmpty());
    }

    @Test
    void deleteRefusesAnAliasedVersionUnlessForced() {
        ok("register", churn.toString(), "--name", "churn", "--alias", "production");
        ok("register", churn.toString(), "--name", "churn", "--allow-duplicate");
        Map<String, String> before = TreeSnapshot.of(models);
        Result refused = berth("delete", "churn:1");
        assertEquals(1, refused.code());
        assertEquals(1, refused.err().lines().count());
        assertTrue(refused.err().startsWith("berth delete: version 1 of 'churn' is the target of alias production"), refused.err());
        assertEquals(before, TreeSnapshot.of(models));

        String forced = ok("delete", "churn:1", "--force").out();
        assertTrue(forced.contains("aliases updated: production"), forced);
        // says where the traffic that followed the alias goes now
        assertTrue(forced.contains("alias production removed: requests that name no version now go to churn:2 (the latest version)"), forced);
        assertEquals(List.of(2), LocalRegistry.open(models).versions("churn"));
        ok("delete", "churn:2");
        assertEquals("3", ok("register", churn.toString(), "--name", "churn").lastLine());
    }

    @Test
    void deleteCanMoveTheAliasesFirst() {
        ok("register", churn.toString(), "--name", "churn", "--alias", "production");
        ok("register", churn.toString(), "--name", "churn", "--allow-duplicate", "--alias", "staging");
        ok("register", churn.toString(), "--name", "churn", "--allow-duplicate");
        ok("alias", "churn", "canary", "1=80", "2=20");
        Result bad = berth("delete", "churn:1", "--move-aliases-to", "1");
        assertEquals(2, bad.code(), bad.err());
        assertEquals(1, berth("delete", "churn:1", "--move-aliases-to", "7").code());
        String moved = ok("delete", "churn:1", "--move-aliases-to", "3").out();
        assertTrue(moved.contains("production -> 3"), moved);
        assertTrue(moved.contains("canary -> 3 (80), 2 (20)"), moved);
        LocalRegistry registry = LocalRegistry.open(models);
        assertEquals(List.of(2, 3), registry.versions("churn"));
        assertEquals(3, registry.info("churn").alias("production").orElseThrow().targets().get(0).version());
        assertEquals(2, registry.info("churn").alias("staging").orElseThrow().targets().get(0).version());
    }

    @Test
    void aPlainTritonLayoutIsReadAsIs() throws IOException {
        Path v = Files.createDirectories(models.resolve("plain/1"));
        Files.copy(churn.resolve("model.onnx"), v.resolve("model.onnx"));
        assertTrue(ok("list").out().lines().anyMatch(l -> l.matches("plain\\s+1\\s+-\\s+-")));
        String show = ok("show", "plain").out();
        assertTrue(show.contains("no manifest"), show);
        assertTrue(show.contains("features       FP32 [-1, 8]"), show);
        assertTrue(ok("verify").out().contains("ok     plain:1 (no manifest; model file read by ONNX Runtime)"));
        ModelManifest described = RegistryJson.mapper().readValue(ok("show", "plain:1", "--json").out(), ModelManifest.class);
        assertEquals("model.onnx", described.modelFile().path());
        assertEquals("2", ok("register", churn.toString(), "--name", "plain").lastLine());
    }

    /** Without a manifest there is no hash to compare: a truncated model file must still fail verify (issue 10). */
    @Test
    void verifyLoadsAModelFileThatHasNoManifest() throws IOException {
        Path v = Files.createDirectories(models.resolve("plain/1"));
        byte[] whole = Files.readAllBytes(churn.resolve("model.onnx"));
        Files.write(v.resolve("model.onnx"), java.util.Arrays.copyOf(whole, whole.length / 2));
        Result r = berth("verify");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FAILED plain:1"), r.out());
        assertTrue(r.err().startsWith("UNLOADABLE_MODEL plain:1 model.onnx: "), r.err());
        assertTrue(r.err().contains("not a loadable ONNX model"), r.err());
        assertEquals(1, berth("verify", "plain:1").code());
        Files.write(v.resolve("model.onnx"), whole);
        assertEquals(0, berth("verify", "plain").code());
    }

    @Test
    void badInputGetsOneLineExitCodeAndNoChange() throws IOException {
        ok("register", churn.toString(), "--name", "churn", "--alias", "production");
        Path notOnnx = Files.writeString(tmp.resolve("model.onnx"), "definitely not protobuf");
        Path badMetrics = Files.writeString(tmp.resolve("metrics.json"), "{accuracy: }");
        String model = churn.resolve("model.onnx").toString();
        record Case(int code, String prefix, String... args) {
        }
        List<Case> cases = List.of(
                new Case(2, "berth register: ", "register", notOnnx.toString(), "--name", "churn"),
                new Case(2, "berth register: ", "register", model, "--name", "../x"),
                new Case(2, "berth register: ", "register", model, "--name", "a b"),
                new Case(2, "berth register: ", "register", model, "--name", ".hidden"),
                new Case(2, "berth register: ", "register", model),
                new Case(2, "berth register: ", "register", tmp.resolve("missing.onnx").toString(), "--name", "churn"),
                new Case(2, "berth register: ", "register", model, "--name", "churn", "--metrics", badMetrics.toString()),
                new Case(2, "berth register: ", "register", model, "--name", "churn", "--bogus"),
                new Case(2, "berth register: ", "register", model, "--name", "churn", "--tag", "novalue"),
                new Case(1, "berth show: ", "show", "churn:9"),
                new Case(1, "berth show: ", "show", "churn@staging"),
                new Case(1, "berth show: ", "show", "nosuch"),
                new Case(2, "berth show: ", "show", "../x"),
                new Case(2, "berth show: ", "show", "churn:0"),
                new Case(1, "berth alias: ", "alias", "churn", "production", "9"),
                new Case(2, "berth alias: ", "alias", "churn", "production", "1=0"),
                new Case(2, "berth alias: ", "alias", "churn", "production"),
                new Case(1, "berth alias: ", "alias", "churn", "staging", "--delete"),
                new Case(1, "berth diff: ", "diff", "churn:1", "churn:9"),
                new Case(1, "berth verify: ", "verify", "nosuch"),
                new Case(1, "berth delete: ", "delete", "churn:9"),
                new Case(2, "berth delete: ", "delete", "churn"),
                new Case(2, "berth: ", "bogus"));
        Map<String, String> before = TreeSnapshot.of(tmp);
        Result notModel = berth("register", notOnnx.toString(), "--name", "churn");
        assertTrue(notModel.err().startsWith("berth register: " + notOnnx + " is not a loadable ONNX model"), notModel.err());
        assertFalse(notModel.err().contains(".staging-"), "the message names the user's file: " + notModel.err());
        for (Case c : cases) {
            Result r = berth(c.args());
            String what = String.join(" ", c.args()) + " -> " + r;
            assertEquals(c.code(), r.code(), what);
            assertEquals(1, r.err().lines().count(), "one line on stderr: " + what);
            assertTrue(r.err().startsWith(c.prefix()), what);
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), "no stack trace: " + what);
            assertEquals(before, TreeSnapshot.of(tmp), "unchanged after " + what);
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : List.of("register", "list", "show", "alias", "diff", "verify", "delete")) {
            Result r = berth(cmd, "--help");
            assertEquals(0, r.code(), cmd);
            assertTrue(r.out().startsWith("Usage: berth " + cmd), r.out());
            assertTrue(r.out().contains("--models=DIR"), cmd);
        }
        Result top = berth("--help");
        assertEquals(0, top.code());
        assertTrue(top.out().contains("register"));
        assertEquals(2, berth().code(), "no command is misuse");
    }
}
