package dev.berth.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scrape configuration, rules and Grafana files in monitoring/ are what Prometheus and Grafana accept. */
class PromtoolIT {
    private static String promtool(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/promtool"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(MonitoringFiles.folder().toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, p.exitValue(), "promtool " + String.join(" ", args) + ":\n" + out);
        return out;
    }

    @Test
    void scrapeConfigIsValid() throws Exception {
        String out = promtool("check", "config", "prometheus/prometheus.yml");
        assertTrue(out.contains("SUCCESS"), out);
    }

    @Test
    void rulesAreValid() throws Exception {
        String out = promtool("check", "rules", "prometheus/rules/berth.rules.yml");
        assertTrue(out.contains("SUCCESS: 8 rules found"), out);
    }

    @Test
    void alertsFireOnTheirConditionsAndNotOnNearMisses() throws Exception {
        String out = promtool("test", "rules", "prometheus/rules/berth.rules.test.yml");
        assertTrue(out.contains("SUCCESS"), out);
    }

    @Test
    void alertsCoverErrorsLatencyReadinessAndDrift() throws Exception {
        Set<String> alerts = new HashSet<>();
        for (MonitoringFiles.Expression e : MonitoringFiles.ruleExpressions()) {
            if (e.alert()) {
                alerts.add(e.where());
            }
        }
        assertTrue(alerts.containsAll(Set.of("alert BerthHighErrorRatio", "alert BerthLatencyObjective",
                "alert BerthModelNotReady", "alert BerthInputDrift")), alerts.toString());
    }

    @Test
    void grafanaProvisioningPointsAtTheDashboardsDatasource() throws Exception {
        Path folder = MonitoringFiles.folder();
        JsonNode datasources = new YAMLMapper().readTree(folder.resolve("grafana/provisioning/datasources/berth-prometheus.yml").toFile());
        String uid = datasources.path("datasources").get(0).path("uid").asText();
        assertEquals("prometheus", datasources.path("datasources").get(0).path("type").asText());
        JsonNode providers = new YAMLMapper().readTree(folder.resolve("grafana/provisioning/dashboards/berth.yml").toFile());
        assertEquals("file", providers.path("providers").get(0).path("type").asText());

        JsonNode dash = new ObjectMapper().readTree(MonitoringFiles.dashboard().toFile());
        Set<String> variables = new HashSet<>();
        dash.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        assertTrue(variables.containsAll(Set.of("model", "version")), "model and version are dashboard variables");
        Set<String> uids = new HashSet<>();
        dash.path("panels").forEach(p -> {
            if (!p.path("type").asText().equals("row")) {
                uids.add(p.path("datasource").path("uid").asText());
                p.path("targets").forEach(t -> uids.add(t.path("datasource").path("uid").asText()));
            }
        });
        assertEquals(Set.of(uid), uids, "every panel queries the provisioned datasource");
        List<String> titles = new java.util.ArrayList<>();
        dash.path("panels").forEach(p -> titles.add(p.path("title").asText()));
        for (String needed : List.of("Request rate", "Error ratio", "End-to-end latency p50 / p95 / p99", "Queue vs compute time (p95)",
                "Batch size distribution", "Requests in flight", "Model loads", "JVM memory", "GC", "Input drift (PSI vs training data)")) {
            assertTrue(titles.contains(needed), "panel " + needed);
        }
        // every expression uses only the dashboard's variables and Grafana's interval (substitution fails on any other)
        List<MonitoringFiles.Expression> expressions = MonitoringFiles.dashboardExpressions(Map.of("job", "berth", "model", "m", "version", "1"));
        assertTrue(expressions.size() >= titles.size(), expressions.size() + " expressions for " + titles.size() + " panels");
        assertTrue(expressions.stream().noneMatch(e -> e.promql().contains("$")), "no variable left unsubstituted");
    }
}
