package dev.berth.cli;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.oci.MirrorSource;
import dev.berth.oci.OciMirror;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.onnx.OrtNatives;
import dev.berth.server.BerthServer;
import dev.berth.server.ServeOption;
import dev.berth.server.ServeSettings;
import io.helidon.config.Config;
import io.helidon.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code berth serve}: the Open Inference Protocol over REST and gRPC for every model in the
 * registry, until SIGTERM or Ctrl-C, which stop it gracefully (stop admitting, finish what is in
 * flight, close the sessions).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, modelTransformer = ServeCommand.Flags.class,
        description = {"Serves every model of the registry over the Open Inference Protocol (REST and gRPC).",
                "Settings come from flags, then BERTH_* environment variables (and PORT), then --config FILE (YAML)."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (keys under 'berth:').")
    Path config;
    @Mixin
    RegistryOptions registryOptions;
    // every other flag comes from ServeOption (see Flags below): declared once, with its environment variable and YAML key

    /** {@code berth serve}'s grace: long enough for a load balancer polling readiness every few seconds. */
    static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(5);

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> flags = new LinkedHashMap<>();
        if (models.models != null) {
            flags.put(ServeOption.MODELS.key(), models.models.toString());
        }
        for (ServeOption o : ServeOption.values()) {
            OptionSpec given = o.flag().filter(f -> o != ServeOption.MODELS).map(spec::findOption).orElse(null);
            if (given != null && spec.commandLine().getParseResult().hasMatchedOption(given)) {
                flags.put(o.key(), String.valueOf((Object) given.getValue()));
            }
        }
        Config settings;
        try {
            settings = ServeSettings.load(config, System.getenv(), flags);
        } catch (IllegalArgumentException | ConfigException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
        String modelsSetting = settings.get("models").asString().orElse(null);
        OciMirror mirror = MirrorSource.isOci(modelsSetting)
                ? OciServing.start(modelsSetting, settings, registryOptions, spec.commandLine().getOut()) : null;
        Path root = mirror != null ? mirror.modelsRoot()
                : settings.get("models").asString().map(Path::of).orElse(LocalRegistry.defaultRoot(null));
        if (mirror == null && !Files.isDirectory(root)) {
            throw new InvalidArgumentException("no registry folder at " + root.toAbsolutePath()
                    + " (give --models DIR or set BERTH_MODELS)");
        }
        if (!settings.get("allow-empty").asBoolean().orElse(false)) {
            EmptyRegistry.check(root);
        }
        ModelConfigs.check(LocalRegistry.open(root), spec.commandLine().getErr());
        BerthServer server;
        BerthMetrics metrics = null;
        try {
            metrics = metrics(root, settings);
            server = BerthServer.builder().drainGrace(DEFAULT_DRAIN_GRACE).config(settings).models(root).monitoring(metrics).build();
        } catch (IllegalArgumentException e) {
            if (metrics != null) {
                metrics.close();
            }
            throw new InvalidArgumentException(e.getMessage());
        }
        BerthMetrics monitoring = metrics;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("berth-shutdown").unstarted(() -> {
            try {
                if (mirror != null) {
                    mirror.close(); // no poll while the server goes down
                }
                server.stop();
            } finally {
                try {
                    monitoring.close(); // writes the last monitoring reports
                    if (mirror != null) {
                        mirror.pushReports(); // ...which then reach the shared registry too
                    }
                } finally {
                    // every session is closed now: ONNX Runtime's environment may go (never before, see OrtNatives)
                    OrtNatives.releaseAtShutdown();
                    stopped.countDown();
                }
            }
        }));
        server.start();
        PrintWriter out = spec.commandLine().getOut();
        awaitLoads(server, out);
        server.inferenceService().notReadyReason().ifPresent(reason -> {
            PrintWriter err = spec.commandLine().getErr();
            err.println("berth: warning: not ready (/v2/health/ready answers 503): " + reason);
            err.flush();
        });
        out.println("berth serving " + root.toAbsolutePath().normalize() + " on " + (server.tls() ? "https" : "http") + "://"
                + server.host() + ":" + server.port() + " (REST), gRPC on port " + server.grpcPort()
                + (server.metricsPort() >= 0 ? ", metrics on port " + server.metricsPort() : ""));
        out.flush();
        stopped.await();
        return 0;
    }

    /**
     * Holds the "berth serving" line back until every model's first load was tried, so that it is the
     * last thing a start prints and means what it says; a slow load says so instead of staying silent,
     * and a server whose loads are still running after {@link #READY_PATIENCE} announces itself anyway
     * (it serves what loaded).
     */
    /**
     * The monitoring of {@code berth serve}: meters, and reports into the registry at {@code models} (or
     * the {@code reports-dir} of the settings, for a read-only registry such as an image's) every
     * {@code report-interval} (default 5 minutes).
     *
     * @throws IllegalArgumentException when the interval is not a duration
     */
    static BerthMetrics metrics(Path models, Config settings) {
        Duration interval = settings.get("report-interval").asString().map(BerthMetrics::parseInterval)
                .orElse(BerthMetrics.DEFAULT_REPORT_INTERVAL);
        LocalRegistry registry = LocalRegistry.open(models);
        registry = settings.get("reports-dir").asString().filter(s -> !s.isBlank())
                .map(dir -> LocalRegistry.open(models).withReportsDir(Path.of(dir))).orElse(registry);
        return BerthMetrics.builder().registry(registry).reportInterval(interval).build();
    }

    private static void awaitLoads(BerthServer server, PrintWriter out) throws InterruptedException {
        long start = System.nanoTime();
        long nextNotice = start + SLOW_LOAD_NOTICE.toNanos();
        while (!server.inferenceService().loadsTried() && System.nanoTime() - start < READY_PATIENCE.toNanos()) {
            if (System.nanoTime() > nextNotice) {
                out.println("berth: listening on http://" + server.host() + ":" + server.port() + ", models still loading...");
                out.flush();
                nextNotice = Long.MAX_VALUE;
            }
            Thread.sleep(20);
        }
    }

    private static final Duration SLOW_LOAD_NOTICE = Duration.ofSeconds(3);
    private static final Duration READY_PATIENCE = Duration.ofMinutes(5);

    /** Adds a flag for every {@link ServeOption} that has one, with its syntax, default and description. */
    static final class Flags implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec command) {
            for (ServeOption o : ServeOption.values()) {
                if (o.flag().isEmpty() || o == ServeOption.MODELS) {
                    continue; // --models is the mixin every command shares
                }
                List<String> names = new ArrayList<>(List.of(o.flag().get()));
                o.aliases().forEach(a -> names.add("--" + a));
                OptionSpec.Builder b = OptionSpec.builder(names.toArray(String[]::new))
                        .description(o.description() + " (default: " + o.defaultValue() + "; " + o.env() + ")")
                        .paramLabel(o.syntax())
                        .type(switch (o.syntax()) {
                            case "PORT" -> Integer.class;
                            case "N" -> Long.class;
                            case "BOOL" -> Boolean.class;
                            default -> String.class;
                        });
                if (o.isBoolean()) {
                    b.arity("0..1").fallbackValue("true");
                }
                command.addOption(b.build());
            }
            return command;
        }
    }
}
