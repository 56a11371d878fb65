package dev.berth.monitoring;

import dev.berth.runtime.Tensor;
import dev.berth.server.spi.RequestMetrics;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The accumulators of one report window of one version. Request threads add to it with adders and
 * atomic arrays only; the report thread swaps in a fresh window, waits for the writers that still
 * hold this one ({@link #writers}), then reads it.
 */
final class VersionWindow {
    /** Per request, at most this many elements of an input feed its statistics (evenly spaced); large tensors are sampled. */
    static final int MAX_ELEMENTS_PER_REQUEST = 4096;
    /** Per request, at most this many rows feed the per-column statistics. */
    static final int MAX_ROWS_PER_REQUEST = 512;
    /** Inputs not in the signature get generic statistics, up to this many names. */
    private static final int MAX_EXTRA_INPUTS = 16;

    private static final RequestMetrics.Protocol[] PROTOCOLS = RequestMetrics.Protocol.values();

    final Instant start;
    final AtomicInteger writers = new AtomicInteger();

    private final LongAdder[] outcomes = adders(RequestMetrics.Outcome.values().length);
    private final LongAdder[] protocols = adders(PROTOCOLS.length);
    private final LongAdder inferences = new LongAdder();
    private final LongAdder rows = new LongAdder();
    private final LogHistogram endToEnd = new LogHistogram();
    private final LogHistogram queue = new LogHistogram();
    private final LogHistogram compute = new LogHistogram();
    private final ConcurrentHashMap<Integer, LongAdder> batchSizes = new ConcurrentHashMap<>();
    private final LongAdder batches = new LongAdder();
    private final LongAdder batchRows = new LongAdder();
    private final LongAdder requestCount = new LongAdder();
    private final LongAdder requestBytes = new LongAdder();
    private final LongAccumulator requestMax = new LongAccumulator(Math::max, 0);
    private final LongAdder responseCount = new LongAdder();
    private final LongAdder responseBytes = new LongAdder();
    private final LongAccumulator responseMax = new LongAccumulator(Math::max, 0);
    private final InputWindow[] inputs;
    private final ConcurrentHashMap<String, InputWindow> extraInputs = new ConcurrentHashMap<>();

    VersionWindow(VersionProfile profile, Instant start) {
        this.start = start;
        List<VersionProfile.InputProfile> ps = profile.inputs();
        inputs = new InputWindow[ps.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = new InputWindow(ps.get(i));
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    boolean isEmpty() {
        return outcomes[0].sum() + outcomes[1].sum() + outcomes[2].sum() == 0 && inferences.sum() == 0 && batches.sum() == 0;
    }

    void requestFinished(RequestMetrics.Protocol protocol, RequestMetrics.Outcome outcome, long nanos, long reqBytes, long respBytes) {
        outcomes[outcome.ordinal()].increment();
        protocols[protocol.ordinal()].increment();
        endToEnd.record(nanos);
        if (reqBytes >= 0) {
            requestCount.increment();
            requestBytes.add(reqBytes);
            requestMax.accumulate(reqBytes);
        }
        if (respBytes >= 0) {
            responseCount.increment();
            responseBytes.add(respBytes);
            responseMax.accumulate(respBytes);
        }
    }

    void inferenceCompleted(long queueNanos, long computeNanos, long requestRows) {
        inferences.increment();
        rows.add(requestRows);
        queue.record(queueNanos);
        compute.record(computeNanos);
    }

    void batchExecuted(int batchRowCount) {
        batches.increment();
        batchRows.add(batchRowCount);
        LongAdder a = batchSizes.get(batchRowCount);
        if (a == null) {
            a = batchSizes.computeIfAbsent(batchRowCount, k -> new LongAdder());
        }
        a.increment();
    }

    void inputs(List<Tensor> tensors) {
        for (Tensor t : tensors) {
            InputWindow w = input(t);
            if (w != null) {
                w.record(t);
            }
        }
    }

    private InputWindow input(Tensor t) {
        String name = t.name();
        for (InputWindow w : inputs) {
            if (w.profile.name().equals(name)) {
                return w;
            }
        }
        InputWindow w = extraInputs.get(name);
        if (w == null && extraInputs.size() < MAX_EXTRA_INPUTS) {
            w = extraInputs.computeIfAbsent(name, n -> new InputWindow(VersionProfile.InputProfile.generic(n, t.datatype().name())));
        }
        return w;
    }

    MonitoringReport toReport(String model, int version, Instant end, VersionProfile profile) {
        long success = outcomes[RequestMetrics.Outcome.SUCCESS.ordinal()].sum();
        long clientError = outcomes[RequestMetrics.Outcome.CLIENT_ERROR.ordinal()].sum();
        long serverError = outcomes[RequestMetrics.Outcome.SERVER_ERROR.ordinal()].sum();
        Map<String, Long> byProtocol = new LinkedHashMap<>();
        for (RequestMetrics.Protocol p : PROTOCOLS) {
            byProtocol.put(p.label(), protocols[p.ordinal()].sum());
        }
        MonitoringReport.Requests requests = new MonitoringReport.Requests(success + clientError + serverError, success,
                clientError, serverError, byProtocol, inferences.sum(), rows.sum());
        double seconds = Math.max(0.001, (end.toEpochMilli() - start.toEpochMilli()) / 1000.0);
        // the core's count stands in when no front end reported (in-process callers)
        long served = requests.total() > 0 ? success : inferences.sum();
        MonitoringReport.Latency latency = new MonitoringReport.Latency(
                percentiles(endToEnd.snapshot()), percentiles(queue.snapshot()), percentiles(compute.snapshot()));
        Map<String, Long> sizes = new LinkedHashMap<>();
        new TreeMap<>(batchSizes).forEach((k, v) -> sizes.put(Integer.toString(k), v.sum()));
        long executed = batches.sum();
        MonitoringReport.Batches batchReport = new MonitoringReport.Batches(executed,
                executed == 0 ? 0 : (double) batchRows.sum() / executed, sizes);
        MonitoringReport.Payload payload = new MonitoringReport.Payload(
                bytes(requestCount.sum(), requestBytes.sum(), requestMax.get()),
                bytes(responseCount.sum(), responseBytes.sum(), responseMax.get()));
        List<MonitoringReport.InputStats> inputStats = new ArrayList<>();
        Map<String, Double> psi = new LinkedHashMap<>();
        Map<String, Long> tooFew = new LinkedHashMap<>();
        List<InputWindow> all = new ArrayList<>(List.of(inputs));
        all.addAll(new TreeMap<>(extraInputs).values());
        for (InputWindow w : all) {
            List<MonitoringReport.ColumnStats> columns = new ArrayList<>();
            for (int c = 0; c < w.columns.length; c++) {
                MonitoringReport.Summary s = w.columns[c].summary();
                String column = w.profile.columns().get(c);
                columns.add(new MonitoringReport.ColumnStats(column, s));
                if (s.psi() != null && s.count() > 0) {
                    psi.put(w.profile.name() + "." + column, s.psi());
                } else if (s.count() < MonitoringReport.MIN_PSI_ROWS && s.histogram().stream().anyMatch(b -> b.trainingFraction() != null)) {
                    tooFew.put(w.profile.name() + "." + column, s.count());
                }
            }
            inputStats.add(new MonitoringReport.InputStats(w.profile.name(), w.profile.datatype(), w.all.summary(), columns));
        }
        MonitoringReport.Drift drift = null;
        if (profile.trainingData() != null) {
            Double max = psi.isEmpty() ? null : psi.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            drift = new MonitoringReport.Drift(profile.trainingData(), profile.trainingRows(), psi, max,
                    MonitoringReport.MIN_PSI_ROWS, tooFew);
        }
        return new MonitoringReport(MonitoringReport.FORMAT, model, version, start, end, requests, served / seconds,
                latency, batchReport, payload, inputStats, drift);
    }

    private static MonitoringReport.Percentiles percentiles(LogHistogram.Snapshot s) {
        return new MonitoringReport.Percentiles(s.count(), ms(s.mean()), ms(s.percentile(0.50)), ms(s.percentile(0.90)),
                ms(s.percentile(0.95)), ms(s.percentile(0.99)), ms(s.max()));
    }

    private static double ms(double nanos) {
        return Math.round(nanos / 1000.0) / 1000.0;
    }

    private static MonitoringReport.Bytes bytes(long count, long total, long max) {
        return new MonitoringReport.Bytes(count, total, count == 0 ? 0 : (double) total / count, max);
    }

    /** Statistics of one input over the window. */
    static final class InputWindow {
        final VersionProfile.InputProfile profile;
        final ValueStats all = new ValueStats(Bins.generic(), null);
        final ValueStats[] columns;

        InputWindow(VersionProfile.InputProfile profile) {
            this.profile = profile;
            columns = new ValueStats[profile.columns().size()];
            for (int c = 0; c < columns.length; c++) {
                columns[c] = new ValueStats(profile.columnBins()[c], profile.trainingFractions()[c]);
            }
        }

        void record(Tensor t) {
            if (!TensorValues.numeric(t.datatype())) {
                return;
            }
            long n = t.elementCount();
            if (n == 0 || n > Integer.MAX_VALUE / 8) {
                return;
            }
            ByteBuffer b = t.data();
            ValueStats.Local whole = all.local();
            int k = columns.length;
            if (k > 0 && t.rank() == 2 && t.dim(1) == k) {
                int rowCount = (int) t.dim(0);
                if (rowCount == 1) {
                    // the common single-row request: nothing to fold per column, so no request-local objects
                    for (int c = 0; c < k; c++) {
                        double v = TensorValues.get(b, t.datatype(), c);
                        columns[c].add(v);
                        whole.accept(v);
                    }
                    whole.publish();
                    return;
                }
                int rowStep = Math.max(1, (rowCount + MAX_ROWS_PER_REQUEST - 1) / MAX_ROWS_PER_REQUEST);
                ValueStats.Local[] locals = new ValueStats.Local[k];
                for (int c = 0; c < k; c++) {
                    locals[c] = columns[c].local();
                }
                for (int r = 0; r < rowCount; r += rowStep) {
                    for (int c = 0; c < k; c++) {
                        double v = TensorValues.get(b, t.datatype(), r * k + c);
                        locals[c].accept(v);
                        whole.accept(v);
                    }
                }
                for (ValueStats.Local l : locals) {
                    l.publish();
                }
            } else {
                int count = (int) n;
                int step = Math.max(1, (count + MAX_ELEMENTS_PER_REQUEST - 1) / MAX_ELEMENTS_PER_REQUEST);
                for (int i = 0; i < count; i += step) {
                    whole.accept(TensorValues.get(b, t.datatype(), i));
                }
            }
            whole.publish();
        }
    }
}
