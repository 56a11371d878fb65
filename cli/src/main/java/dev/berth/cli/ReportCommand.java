package dev.berth.cli;

import dev.berth.monitoring.MonitoringReport;
import dev.berth.oci.OciReference;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code berth report NAME[:VERSION|@ALIAS]}: the monitoring reports a server wrote into a version, as
 * a table, and with {@code --html} / {@code --png} as charts of latency and throughput over time and
 * of the served input distributions next to the training data's.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Shows the monitoring reports that berth serve wrote into a model version.",
                "--html and --png draw latency and throughput over time and the served input distributions beside the training data's."})
final class ReportCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME[:VERSION|@ALIAS]|REGISTRY/REPOSITORY[:TAG]")
    String ref;
    @Mixin
    RegistryOptions registryOptions;
    @Option(names = "--html", paramLabel = "FILE", description = "Write an HTML page with the table and charts.")
    Path html;
    @Option(names = "--png", paramLabel = "FILE", description = "Write the charts as a PNG image.")
    Path png;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (OciReference.looksRemote(ref)) { // the reports every replica pushed next to the version
            RemoteCommands.RemoteReports remote = RemoteCommands.reports(ref, registryOptions, err);
            return render(remote.title(), remote.reports(), out);
        }
        LocalRegistry registry = models.registry();
        ModelRef r = ModelRef.parse(ref);
        // a deleted version's reports are kept (retired/<version>/): NAME:VERSION still shows them
        int version = r.version().isPresent() && registry.hasRetiredReports(r.name(), r.version().getAsInt()) ? r.version().getAsInt()
                : registry.resolve(r);
        if (!registry.versions(r.name()).contains(version)) {
            err.println("version " + version + " of " + r.name() + " was deleted; these are the reports it left");
        }
        List<MonitoringReport> reports = new ArrayList<>();
        for (Path p : registry.monitoringReports(r.name(), version)) {
            if (!p.getFileName().toString().endsWith(".json")) {
                continue;
            }
            try {
                reports.add(MonitoringReport.read(p));
            } catch (IOException e) {
                // one damaged file must not hide the others
                err.println("skipped unreadable report " + p.getFileName() + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        return render(r.name() + ":" + version, reports, out);
    }

    private int render(String title, List<MonitoringReport> reports, PrintWriter out) throws IOException {
        if (reports.isEmpty()) {
            out.println("no monitoring reports for " + title + " (berth serve writes them every --report-interval and at shutdown)");
        } else {
            out.println("monitoring reports of " + title);
            Table.print(out, rows(reports));
            String now = driftNow(reports);
            if (now != null) {
                out.println(now);
            }
        }
        if (html != null || png != null) {
            ReportCharts charts = new ReportCharts("berth report " + title, reports);
            if (png != null) {
                folderFor(png, "--png");
                charts.writePng(png);
                out.println("wrote " + png);
            }
            if (html != null) {
                folderFor(html, "--html");
                Files.writeString(html, html(title, reports, charts), StandardCharsets.UTF_8);
                out.println("wrote " + html);
            }
        }
        out.flush();
        return 0;
    }

    /** Creates the folder a report file goes into (a missing folder is made, not an error); one line when it cannot be. */
    private static void folderFor(Path file, String option) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || Files.isDirectory(parent)) {
            return;
        }
        for (Path p = parent; p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new InvalidArgumentException(option + " " + file + ": " + p + " is a file, not a folder");
            }
        }
        Files.createDirectories(parent);
    }

    static List<String[]> rows(List<MonitoringReport> reports) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"window start (UTC)", "minutes", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
                "queue p95", "compute p95", "rows/batch", "max PSI"});
        for (MonitoringReport m : reports) {
            rows.add(new String[]{TIME.format(m.start()), f(m.seconds() / 60, 1), Long.toString(m.requests().total()),
                    Long.toString(m.requests().errors()), f(m.throughput(), 2), f(m.latency().endToEnd().p50(), 3),
                    f(m.latency().endToEnd().p95(), 3), f(m.latency().endToEnd().p99(), 3), f(m.latency().queue().p95(), 3),
                    f(m.latency().compute().p95(), 3), m.batches().executed() == 0 ? "-" : f(m.batches().meanRows(), 1),
                    m.drift() == null ? "-" : m.drift().maxPsi() == null ? "not enough data" : f(m.drift().maxPsi(), 3)});
        }
        return rows;
    }

    /**
     * The drift "now": the latest window's largest PSI and its column, or why it has none. Null
     * when the version has no training data.
     */
    static String driftNow(List<MonitoringReport> reports) {
        MonitoringReport last = reports.get(reports.size() - 1);
        MonitoringReport.Drift d = last.drift();
        if (d == null) {
            return null;
        }
        String when = "drift now (latest window, " + TIME.format(last.start()) + " UTC): ";
        if (d.maxPsi() == null) {
            long most = d.notEnoughData().values().stream().mapToLong(Long::longValue).max().orElse(0);
            return when + "not enough data (" + most + " rows; PSI needs " + MonitoringReport.MIN_PSI_ROWS + " per column)";
        }
        String column = d.columns().entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
        return when + "max PSI " + f(d.maxPsi(), 3) + " (" + column + ")";
    }

    private static String f(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String html(String title, List<MonitoringReport> reports, ReportCharts charts) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>berth report ")
                .append(escape(title)).append("</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
                        + "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}"
                        + "th{background:#f4f4f4}td:first-child{text-align:left}</style></head><body>\n");
        h.append("<h1>berth report ").append(escape(title)).append("</h1>\n");
        if (reports.isEmpty()) {
            h.append("<p>No monitoring reports yet.</p>\n");
        } else {
            h.append("<table>\n");
            List<String[]> rows = rows(reports);
            for (int i = 0; i < rows.size(); i++) {
                h.append("<tr>");
                for (String cell : rows.get(i)) {
                    h.append(i == 0 ? "<th>" : "<td>").append(escape(cell)).append(i == 0 ? "</th>" : "</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
            MonitoringReport last = reports.get(reports.size() - 1);
            if (last.drift() != null) {
                h.append("<p>").append(escape(driftNow(reports))).append(".</p>\n");
                h.append("<p>Training data: <code>").append(escape(last.drift().trainingData())).append("</code> (")
                        .append(last.drift().trainingRows()).append(" rows). PSI below 0.1 is usually read as stable, above 0.25 as a shift;")
                        .append(" a window with fewer than ").append(MonitoringReport.MIN_PSI_ROWS)
                        .append(" values of a column has no PSI for it (not enough data).</p>\n");
            }
        }
        h.append(charts.toSvg()).append("</body></html>\n");
        return h.toString();
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
