package dev.berth.server;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.Scrape;
import dev.berth.monitoring.TritonStats;
import dev.berth.runtime.InferenceException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Objects;

/**
 * Monitoring on the serving port: {@code GET /metrics} (Prometheus text, or OpenMetrics when the
 * Accept header asks for it) and Triton's statistics extension, {@code GET /v2/models/stats},
 * {@code /v2/models/{model}/stats} and {@code /v2/models/{model}/versions/{version}/stats}.
 * Register it with {@link #install}, which also hands the same {@link BerthMetrics} to the core and the
 * front ends so that all of these read one set of meters.
 */
public final class MetricsService implements HttpService {
    /** The extension name server metadata lists for the statistics endpoints. */
    public static final String STATISTICS_EXTENSION = "statistics";

    private final BerthMetrics metrics;

    private MetricsService(BerthMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    public static MetricsService create(BerthMetrics metrics) {
        return new MetricsService(metrics);
    }

    /**
     * Wires {@code metrics} into a server: observer of the core, request metrics of both front ends,
     * this service on the REST port, the same statistics behind the gRPC {@code ModelStatistics} RPC and
     * the statistics extension in server metadata.
     */
    public static BerthServer.Builder install(BerthServer.Builder server, BerthMetrics metrics) {
        MetricsService service = create(metrics);
        return server.observer(metrics)
                .requestMetrics(metrics)
                .addService(service)
                .statistics(service::statistics)
                .addExtension(STATISTICS_EXTENSION);
    }

    /**
     * The monitoring of {@code berth serve}: meters, and reports into the registry at {@code models} every
     * {@code report-interval} of the settings node (default 5 minutes).
     *
     * @throws IllegalArgumentException when the interval is not a duration
     */
    public static BerthMetrics metrics(java.nio.file.Path models, io.helidon.config.Config settings) {
        java.time.Duration interval = settings.get("report-interval").asString()
                .map(BerthMetrics::parseInterval)
                .orElse(BerthMetrics.DEFAULT_REPORT_INTERVAL);
        dev.berth.registry.LocalRegistry registry = dev.berth.registry.LocalRegistry.open(models);
        // a read-only registry (an image) keeps its reports in a writable folder of their own
        registry = settings.get("reports-dir").asString().filter(s -> !s.isBlank())
                .map(dir -> dev.berth.registry.LocalRegistry.open(models).withReportsDir(java.nio.file.Path.of(dir))).orElse(registry);
        return BerthMetrics.builder().registry(registry).reportInterval(interval).build();
    }

    @Override
    public void routing(HttpRules rules) {
        get(rules, "/metrics", this::metrics);
        get(rules, "/v2/models/stats", (req, res) -> stats(res, null, null));
        get(rules, "/v2/models/{model}/stats", (req, res) -> stats(res, req.path().pathParameters().get("model"), null));
        get(rules, "/v2/models/{model}/versions/{version}/stats", (req, res) -> stats(res,
                req.path().pathParameters().get("model"), req.path().pathParameters().get("version")));
    }

    private static void get(HttpRules rules, String path, io.helidon.webserver.http.Handler handler) {
        rules.get(path, handler);
        rules.any(path, (req, res) -> {
            res.header(HeaderNames.ALLOW, "GET");
            OipRestService.sendError(res, 405, "method " + req.prologue().method().text() + " is not allowed on "
                    + req.path().path() + "; use GET");
        });
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        Scrape scrape = metrics.scrape(req.headers().first(HeaderNames.ACCEPT).orElse(null));
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, scrape.contentType());
        res.send(scrape.body());
    }

    /**
     * Triton statistics as both front ends serve them: all models when {@code model} is null or empty,
     * all versions of it when {@code version} is null or empty.
     *
     * @throws InferenceException.NotFound for a model that was never loaded or a version without statistics
     */
    public TritonStats statistics(String model, String version) {
        String m = model == null || model.isEmpty() ? null : model;
        String v = m == null || version == null || version.isEmpty() ? null : version;
        if (m != null && !metrics.knowsModel(m)) {
            throw new InferenceException.NotFound("no statistics for model '" + m + "': it is not loaded");
        }
        TritonStats stats = metrics.tritonStats(m, v);
        if (v != null && stats.modelStats().isEmpty()) {
            throw new InferenceException.NotFound("no statistics for version '" + v + "' of model '" + m + "'");
        }
        return stats;
    }

    private void stats(ServerResponse res, String model, String version) {
        TritonStats stats;
        try {
            stats = statistics(model, version);
        } catch (InferenceException.NotFound e) {
            OipRestService.sendError(res, 404, e.getMessage());
            return;
        }
        OipRestService.sendJson(res, 200, stats.toJson());
    }
}
