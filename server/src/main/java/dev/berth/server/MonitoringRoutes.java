package dev.berth.server;

import dev.berth.runtime.InferenceException;
import dev.berth.server.codec.TritonStatistics;
import dev.berth.server.spi.Scrape;
import dev.berth.server.spi.ServerMonitoring;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Optional;

/**
 * Monitoring on the REST port, from the {@link ServerMonitoring} plugged into the server:
 * {@code GET /metrics} (Prometheus text, or OpenMetrics when the Accept header asks for it) and
 * Triton's statistics extension, {@code GET /v2/models/stats}, {@code /v2/models/{model}/stats} and
 * {@code /v2/models/{model}/versions/{version}/stats}. Registered before the inference routes, so that
 * {@code /v2/models/stats} is never read as the metadata of a model named "stats"; without monitoring
 * each of these paths is a 404 that says so.
 */
final class MonitoringRoutes implements HttpService {
    /** The extension name server metadata lists when monitoring is plugged in. */
    static final String STATISTICS_EXTENSION = "statistics";
    static final String NO_STATISTICS = "the statistics extension is not enabled on this server (no monitoring installed)";
    private static final String NO_METRICS = "metrics are not served: this server has no monitoring installed";

    private static final String METRICS_ELSEWHERE = "metrics are served on the metrics port of this server (--metrics-port), not here";

    /** Where {@code /metrics} is answered. */
    enum Metrics {
        /** On this listener, with the statistics extension (the default). */
        HERE,
        /** On a listener of its own: this one answers 404 for it, and keeps the statistics extension. */
        ELSEWHERE,
        /** This is the metrics listener: {@code /metrics} only. */
        ONLY
    }

    private final Optional<ServerMonitoring> monitoring;
    private final Metrics metrics;

    MonitoringRoutes(Optional<ServerMonitoring> monitoring, Metrics metrics) {
        this.monitoring = monitoring;
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        RestRoutes.get(rules, "/metrics", (req, res) -> {
            if (metrics == Metrics.ELSEWHERE) {
                throw new InferenceException.NotFound(METRICS_ELSEWHERE);
            }
            Scrape scrape = monitoring(NO_METRICS).scrape(req.headers().first(HeaderNames.ACCEPT).orElse(null));
            Replies.send(res, 200, scrape.contentType(), scrape.body());
        });
        if (metrics == Metrics.ONLY) {
            return;
        }
        RestRoutes.get(rules, "/v2/models/stats", (req, res) -> stats(req, res, false, false));
        RestRoutes.get(rules, "/v2/models/{model}/stats", (req, res) -> stats(req, res, true, false));
        RestRoutes.get(rules, "/v2/models/{model}/versions/{version}/stats", (req, res) -> stats(req, res, true, true));
    }

    private ServerMonitoring monitoring(String without) {
        return monitoring.orElseThrow(() -> new InferenceException.NotFound(without));
    }

    private void stats(ServerRequest req, ServerResponse res, boolean model, boolean version) {
        String m = model ? OipRestService.model(req) : null;
        String v = version ? OipRestService.version(req) : null;
        RestRoutes.sendJson(res, 200, TritonStatistics.toJson(monitoring(NO_STATISTICS).statistics(m, v)));
    }
}
