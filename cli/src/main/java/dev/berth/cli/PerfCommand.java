package dev.berth.cli;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.ServingConfig;
import dev.berth.runtime.onnx.OnnxInferenceService;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import dev.berth.server.BerthServer;
import dev.berth.server.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code berth perf NAME[:VERSION|@ALIAS]}: how fast a version serves, kept beside it in the registry.
 * Sweeps concurrency (and batch sizes where the model has a dynamic batch axis) over REST JSON,
 * REST with the binary tensor extension and gRPC, with ONNX Runtime called in-process as the ceiling
 * of the same run, and writes {@code perf/<UTC time>.json} and a chart PNG into the version folder.
 */
@Command(name = "perf", mixinStandardHelpOptions = true,
        description = {"Measures a version's throughput and latency and keeps the result in the registry.",
                "Sweeps concurrency (and batch sizes) over REST JSON, REST binary and gRPC beside in-process ONNX Runtime;",
                "the result goes beside the version as perf/<time>.json and a chart .png.",
                "Without --url, an in-process server on free ports serves the version for the run."})
final class PerfCommand implements Callable<Integer> {
    static final List<String> FRONT_ENDS = List.of("rest-json", "rest-binary", "grpc");
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Held here: a logger whose level was set is only kept while it is referenced. */
    private static final List<Logger> QUIET = List.of(
            Logger.getLogger("dev.berth"), Logger.getLogger("io.helidon"),
            Logger.getLogger("io.grpc"));

    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME[:VERSION|@ALIAS]")
    String ref;
    @Option(names = "--url", paramLabel = "URL",
            description = "Measure a running server (http://HOST:PORT) instead of an in-process one.")
    String url;
    @Option(names = "--grpc", paramLabel = "HOST:PORT",
            description = "With --url: the server's gRPC address (default: the --url host, port 8081).")
    String grpc;
    @Option(names = "--concurrency", paramLabel = "N", split = ",", description = "Concurrent clients (connections) to sweep (default: 1,2,4,8).")
    List<Integer> concurrency = List.of(1, 2, 4, 8);
    @Option(names = "--batch", paramLabel = "N", split = ",",
            description = "Batch sizes (rows per request) where the inputs have a dynamic batch axis (default: 1,8; 1 otherwise).")
    List<Integer> batch;
    @Option(names = "--front-ends", paramLabel = "NAME", split = ",",
            description = "Any of rest-json, rest-binary, grpc (default: all three).")
    List<String> frontEnds = FRONT_ENDS;
    @Option(names = "--no-ceiling", description = "Skip the in-process ONNX Runtime ceiling.")
    boolean noCeiling;
    @Option(names = "--window", paramLabel = "DURATION", description = "Measurement window (default: 1s; perf_analyzer's is 5s).")
    String window = "1s";
    @Option(names = "--warmup", paramLabel = "DURATION", description = "Calls before the first window of each point (default: one window).")
    String warmup;
    @Option(names = "--stability", paramLabel = "PERCENT",
            description = "Windows are added until the last --stable-windows agree within this (default: 10).")
    double stability = 10;
    @Option(names = "--stable-windows", paramLabel = "N", description = "Windows compared for stability and reported (default: 3).")
    int stableWindows = 3;
    @Option(names = "--max-windows", paramLabel = "N", description = "Most windows per point, stable or not (default: 10).")
    int maxWindows = 10;

    @Override
    public Integer call() throws Exception {
        LocalRegistry registry = models.existingRegistry();
        ModelRef r = ModelRef.parse(ref);
        int version = registry.resolve(r);
        String name = r.name();
        ModelManifest manifest = registry.manifest(name, version, new OnnxSignatureReader());
        ServingConfig serving = registry.info(name).servingFor(registry.storedManifest(name, version).orElse(null));
        PerfMeasurement.Settings settings = settings();
        List<PerfPayload> payloads = payloads(manifest);
        for (String f : frontEnds) {
            if (!FRONT_ENDS.contains(f)) {
                throw new InvalidArgumentException("unknown front end '" + f + "' (rest-json, rest-binary, grpc)");
            }
        }
        if (concurrency.isEmpty() || concurrency.stream().anyMatch(c -> c < 1 || c > 1024)) {
            throw new InvalidArgumentException("concurrency must be 1..1024, got " + concurrency);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Double load = loadAverage();
        BerthServer server = null;
        PerfCeiling ceiling = null;
        PerfReport.Target target;
        // the in-process server's start/stop lines would interleave with the progress: only warnings reach the terminal
        List<Level> levels = QUIET.stream().map(Logger::getLevel).toList();
        if (url == null) {
            QUIET.forEach(l -> l.setLevel(Level.WARNING));
        }
        try {
            String restHost;
            int restPort;
            String grpcHost;
            int grpcPort;
            if (url == null) {
                if (grpc != null) {
                    throw new InvalidArgumentException("--grpc needs --url (the in-process server's ports are its own)");
                }
                err.println("perf: serving " + name + ":" + version + " in-process on free ports...");
                err.flush();
                server = inProcessServer(registry, name, version);
                restHost = grpcHost = server.host();
                restPort = server.port();
                grpcPort = server.grpcPort();
                target = new PerfReport.Target("in-process", null, null);
            } else {
                URI u = URI.create(url);
                if (!"http".equals(u.getScheme()) || u.getHost() == null) {
                    throw new InvalidArgumentException("--url must be http://HOST[:PORT], got '" + url + "'");
                }
                restHost = u.getHost();
                restPort = u.getPort() < 0 ? 80 : u.getPort();
                String g = grpc != null ? grpc : restHost + ":8081";
                int colon = g.lastIndexOf(':');
                if (colon < 1) {
                    throw new InvalidArgumentException("--grpc must be HOST:PORT, got '" + g + "'");
                }
                grpcHost = g.substring(0, colon);
                grpcPort = parsePort(g.substring(colon + 1));
                target = new PerfReport.Target("url", url, frontEnds.contains("grpc") ? g : null);
            }
            Map<String, PerfSweep.FrontEnd> sweep = new LinkedHashMap<>();
            if (!noCeiling) {
                if (payloads.stream().allMatch(PerfCeiling::supports)) {
                    ceiling = PerfCeiling.open(registry.modelFile(name, version), serving);
                    PerfCeiling c = ceiling;
                    sweep.put(PerfReport.IN_PROCESS, p -> () -> c.caller(p));
                } else {
                    err.println("perf: no in-process ceiling (ONNX Runtime's Java API has no tensor type for an input)");
                }
            }
            String path = "/v2/models/" + name + "/versions/" + version + "/infer";
            String v = Integer.toString(version);
            for (String f : frontEnds) {
                switch (f) {
                    case "rest-json" -> sweep.put(f, p -> {
                        byte[] request = PerfHttpCaller.post(restHost, restPort, path, p.json(), "Content-Type: application/json");
                        return () -> new PerfHttpCaller(restHost, restPort, request);
                    });
                    case "rest-binary" -> sweep.put(f, p -> {
                        byte[] request = PerfHttpCaller.post(restHost, restPort, path, p.binary(), "Content-Type: application/octet-stream",
                                "Inference-Header-Content-Length: " + p.binaryHeaderLength());
                        return () -> new PerfHttpCaller(restHost, restPort, request);
                    });
                    default -> sweep.put(f, p -> {
                        var message = p.grpc(name, v);
                        return () -> new PerfGrpcCaller(grpcHost, grpcPort, message);
                    });
                }
            }
            List<String> measured = new ArrayList<>(sweep.keySet());
            err.println("perf: " + name + ":" + version + ", " + measured + ", batch " + batchSizes(payloads) + ", concurrency " + concurrency
                    + ", windows of " + settings.window().toMillis() + " ms until " + settings.stableWindows() + " agree within "
                    + fmt(stability) + " % (at most " + settings.maxWindows() + ")");
            err.flush();
            List<PerfReport.Result> results = new PerfSweep(sweep, concurrency, settings, line -> {
                err.println("perf: " + line);
                err.flush();
            }).run(payloads);
            PerfReport report = new PerfReport(PerfReport.FORMAT, name, version, Instant.now().truncatedTo(ChronoUnit.SECONDS), target,
                    new PerfReport.Settings(settings.warmup().toMillis(), settings.window().toMillis(), stability, settings.stableWindows(),
                            settings.maxWindows(), concurrency, batchSizes(payloads), measured),
                    new PerfReport.Machine(Runtime.getRuntime().availableProcessors(),
                            System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                            System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"), load),
                    serving, results);
            String stem = FILE_TIME.format(report.created());
            Path json = registry.writePerfReport(name, version, stem + ".json", report.toJson());
            Path png = registry.writePerfReport(name, version, stem + ".png", new PerfCharts(report).png());
            PerfTables.summary(out, report);
            out.println("perf report: " + json + " (chart " + png.getFileName() + ")");
            out.flush();
            return 0;
        } finally {
            if (server != null) {
                server.stop();
            }
            if (ceiling != null) {
                ceiling.close();
            }
            for (int i = 0; i < QUIET.size(); i++) {
                QUIET.get(i).setLevel(levels.get(i));
            }
        }
    }

    private PerfMeasurement.Settings settings() {
        Duration w;
        Duration up;
        try {
            w = Durations.parse("window", window);
            up = warmup == null ? w : Durations.parse("warmup", warmup);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
        if (stability <= 0 || stability >= 100) {
            throw new InvalidArgumentException("--stability must be between 0 and 100 (percent), got " + fmt(stability));
        }
        try {
            return new PerfMeasurement.Settings(up, w, stability, stableWindows, maxWindows);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
    }

    private List<PerfPayload> payloads(ModelManifest manifest) {
        boolean batchable = PerfPayload.batchable(manifest.signature());
        List<Integer> sizes = batch != null ? batch : batchable ? List.of(1, 8) : List.of(1);
        if (sizes.isEmpty() || sizes.stream().anyMatch(b -> b < 1 || b > 65536)) {
            throw new InvalidArgumentException("batch sizes must be 1..65536, got " + sizes);
        }
        if (!batchable && sizes.stream().anyMatch(b -> b != 1)) {
            throw new InvalidArgumentException(manifest.name() + ":" + manifest.version()
                    + " has no dynamic batch axis on every input: only --batch 1 can be measured");
        }
        return sizes.stream().distinct().map(b -> PerfPayload.of(manifest.signature(), b)).toList();
    }

    private static List<Integer> batchSizes(List<PerfPayload> payloads) {
        return payloads.stream().map(PerfPayload::batch).toList();
    }

    /**
     * berth's server for this model alone, on 127.0.0.1 and free ports: only this model is loaded
     * (every version of it, as the version policy says), and no monitoring reports are written,
     * so that a perf run leaves nothing in the registry but its own report.
     */
    private static BerthServer inProcessServer(LocalRegistry registry, String name, int version) throws InterruptedException {
        OnnxInferenceService core = OnnxInferenceService.builder().registry(registry).modelsToLoad(Set.of(name)).build();
        BerthServer server = BerthServer.builder().inferenceService(core).host("127.0.0.1").port(0).grpcPort(0).build();
        server.start();
        try {
            if (!core.awaitInitialLoad(Duration.ofMinutes(5)) || !core.modelReady(name, Integer.toString(version))) {
                throw new InvalidArgumentException(name + ":" + version + " did not load: "
                        + core.notReadyReason().orElse("not ready after 5 minutes"));
            }
        } catch (RuntimeException | InterruptedException e) {
            server.stop();
            throw e;
        }
        return server;
    }

    private static int parsePort(String text) {
        try {
            int p = Integer.parseInt(text);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new InvalidArgumentException("not a port: '" + text + "'");
    }

    /** The 1-minute load average before the run, where the OS tells it (Linux). */
    private static Double loadAverage() {
        try {
            Path f = Path.of("/proc/loadavg");
            return Files.isReadable(f) ? Double.parseDouble(Files.readString(f).split(" ")[0]) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
