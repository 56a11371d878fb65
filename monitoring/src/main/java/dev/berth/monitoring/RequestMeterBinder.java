package dev.berth.monitoring;

import dev.berth.server.spi.RequestMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the protocol front ends see: requests by outcome, end-to-end duration, requests in flight and
 * payload sizes, labelled {@code model}, {@code version}, {@code protocol} and {@code outcome}.
 */
final class RequestMeterBinder extends VersionMeterBinder<RequestMeterBinder.Meters> {
    static final String REQUESTS = "berth.requests";
    static final String DURATION = "berth.request.duration";
    static final String IN_FLIGHT = "berth.requests.in.flight";
    static final String REQUEST_PAYLOAD = "berth.request.payload";
    static final String RESPONSE_PAYLOAD = "berth.response.payload";

    /** Sub-millisecond to ten seconds: a fast tabular model answers in 100 us, a large one in seconds. */
    static final Duration[] LATENCY_BUCKETS = {
            Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
            Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
            Duration.ofSeconds(10)};

    /** 64 B to 64 MiB in powers of four. */
    static final double[] PAYLOAD_BUCKETS = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

    private static final RequestMetrics.Protocol[] PROTOCOLS = RequestMetrics.Protocol.values();
    private static final RequestMetrics.Outcome[] OUTCOMES = RequestMetrics.Outcome.values();

    private final AtomicInteger[] inFlight = new AtomicInteger[PROTOCOLS.length];
    RequestMeterBinder() {
        for (int i = 0; i < inFlight.length; i++) {
            inFlight[i] = new AtomicInteger();
        }
    }

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        super.bindTo(meterRegistry);
        for (RequestMetrics.Protocol p : PROTOCOLS) {
            Gauge.builder(IN_FLIGHT, inFlight[p.ordinal()], AtomicInteger::get)
                    .description("Inference requests received and not yet answered")
                    .tag("protocol", p.label())
                    .register(meterRegistry);
        }
    }

    void started(RequestMetrics.Protocol protocol) {
        inFlight[protocol.ordinal()].incrementAndGet();
    }

    void finished(RequestMetrics.Protocol protocol) {
        inFlight[protocol.ordinal()].decrementAndGet();
    }

    int inFlight(RequestMetrics.Protocol protocol) {
        return inFlight[protocol.ordinal()].get();
    }

    /** Every meter of one model version, created up front so that all series exist from the first scrape (a zero error rate is a series, not a gap). */
    @Override
    Meters newMeters(MeterRegistry registry, Tags versionTags) {
        return new Meters(registry, versionTags);
    }

    static final class Meters {
        final Counter[][] requests = new Counter[PROTOCOLS.length][OUTCOMES.length];
        final Timer[][] duration = new Timer[PROTOCOLS.length][OUTCOMES.length];
        final DistributionSummary[] requestBytes = new DistributionSummary[PROTOCOLS.length];
        final DistributionSummary[] responseBytes = new DistributionSummary[PROTOCOLS.length];

        Meters(MeterRegistry registry, Tags versionTags) {
            for (RequestMetrics.Protocol p : PROTOCOLS) {
                Tags base = versionTags.and("protocol", p.label());
                for (RequestMetrics.Outcome o : OUTCOMES) {
                    Tags tags = base.and("outcome", o.label());
                    requests[p.ordinal()][o.ordinal()] = Counter.builder(REQUESTS)
                            .description("Inference requests by outcome")
                            .tags(tags).register(registry);
                    duration[p.ordinal()][o.ordinal()] = Timer.builder(DURATION)
                            .description("End-to-end inference request duration, from request received to response written")
                            .tags(tags)
                            .serviceLevelObjectives(LATENCY_BUCKETS)
                            .register(registry);
                }
                requestBytes[p.ordinal()] = DistributionSummary.builder(REQUEST_PAYLOAD)
                        .description("Inference request body size")
                        .baseUnit("bytes").tags(base)
                        .serviceLevelObjectives(PAYLOAD_BUCKETS)
                        .register(registry);
                responseBytes[p.ordinal()] = DistributionSummary.builder(RESPONSE_PAYLOAD)
                        .description("Inference response body size")
                        .baseUnit("bytes").tags(base)
                        .serviceLevelObjectives(PAYLOAD_BUCKETS)
                        .register(registry);
            }
        }

        void record(RequestMetrics.Protocol protocol, RequestMetrics.Outcome outcome, long nanos, long requestSize, long responseSize) {
            int p = protocol.ordinal();
            int o = outcome.ordinal();
            requests[p][o].increment();
            duration[p][o].record(nanos, TimeUnit.NANOSECONDS);
            if (requestSize >= 0) {
                requestBytes[p].record(requestSize);
            }
            if (responseSize >= 0) {
                responseBytes[p].record(responseSize);
            }
        }

        /** Count and total nanoseconds over both protocols, for the outcomes Triton calls success or fail. */
        long[] countAndNanos(boolean success) {
            long count = 0;
            double nanos = 0;
            for (RequestMetrics.Protocol p : PROTOCOLS) {
                for (RequestMetrics.Outcome o : OUTCOMES) {
                    if ((o == RequestMetrics.Outcome.SUCCESS) == success) {
                        Timer t = duration[p.ordinal()][o.ordinal()];
                        count += t.count();
                        nanos += t.totalTime(TimeUnit.NANOSECONDS);
                    }
                }
            }
            return new long[]{count, Math.round(nanos)};
        }
    }
}
