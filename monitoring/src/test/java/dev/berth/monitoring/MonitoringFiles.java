package dev.berth.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The PromQL held by the dashboard and rule files in {@code monitoring/}, ready to run. */
public final class MonitoringFiles {
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*(\\w+)\\)\\s*");
    /** A trailing comparison with a number: the threshold of an alert. */
    private static final Pattern THRESHOLD = Pattern.compile("(?s)(.*?)\\s*(==|!=|>=|<=|>|<)\\s*-?[0-9.eE+]+\\s*$");

    /** Where an expression comes from (panel title, variable or rule name), and the expression. */
    public record Expression(String where, String promql, boolean alert) {
    }

    private MonitoringFiles() {
    }

    /** The module folder ({@code monitoring/}) from a test's working directory in any module. */
    public static Path folder() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (p.resolve("monitoring/prometheus/rules").toFile().isDirectory()) {
                return p.resolve("monitoring");
            }
            if (p.getFileName() != null && p.getFileName().toString().equals("monitoring") && p.resolve("prometheus/rules").toFile().isDirectory()) {
                return p;
            }
        }
        throw new IllegalStateException("no monitoring/ folder above " + here);
    }

    public static Path dashboard() {
        return folder().resolve("grafana/dashboards/berth.json");
    }

    public static Path rules() {
        return folder().resolve("prometheus/rules/berth.rules.yml");
    }

    /** Every panel target and query variable of the dashboard, with Grafana's variables substituted from {@code vars}. */
    public static List<Expression> dashboardExpressions(Map<String, String> vars) throws IOException {
        JsonNode dash = new ObjectMapper().readTree(dashboard().toFile());
        List<Expression> out = new ArrayList<>();
        for (JsonNode variable : dash.path("templating").path("list")) {
            String query = variable.path("query").path("query").asText(variable.path("query").asText());
            Matcher m = LABEL_VALUES.matcher(query);
            if (!m.matches()) {
                throw new IllegalStateException("variable " + variable.path("name").asText() + " is not label_values(...): " + query);
            }
            out.add(new Expression("variable $" + variable.path("name").asText(), substitute(m.group(1), vars), false));
        }
        collectPanels(dash.path("panels"), vars, out);
        return out;
    }

    private static void collectPanels(JsonNode panels, Map<String, String> vars, List<Expression> out) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.has("expr")) {
                    out.add(new Expression("panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
                            substitute(target.path("expr").asText(), vars), false));
                }
            }
            collectPanels(panel.path("panels"), vars, out);
        }
    }

    /** Every recording rule and alert expression. */
    public static List<Expression> ruleExpressions() throws IOException {
        JsonNode rules = new YAMLMapper().readTree(rules().toFile());
        List<Expression> out = new ArrayList<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                boolean alert = rule.has("alert");
                String name = alert ? "alert " + rule.path("alert").asText() : "record " + rule.path("record").asText();
                out.add(new Expression(name, rule.path("expr").asText(), alert));
            }
        }
        return out;
    }

    /** The expression without its trailing threshold comparison, or itself when it has none. */
    public static String withoutThreshold(String promql) {
        Matcher m = THRESHOLD.matcher(promql);
        return m.matches() ? m.group(1) : promql;
    }

    static String substitute(String expr, Map<String, String> vars) {
        String out = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "1h");
        for (Map.Entry<String, String> v : vars.entrySet()) {
            out = out.replace("${" + v.getKey() + "}", v.getValue()).replace("$" + v.getKey(), v.getValue());
        }
        if (out.contains("$")) {
            throw new IllegalStateException("unsubstituted variable in " + expr);
        }
        return out;
    }
}
