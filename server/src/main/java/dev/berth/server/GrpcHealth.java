package dev.berth.server;

import dev.berth.registry.ModelNotFoundException;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceService;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code grpc.health.v1.Health}, the service Kubernetes' native gRPC probes, load balancers and
 * grpc-health-probe call. Service names:
 * <ul>
 *   <li>{@code ""} and {@code inference.GRPCInferenceService}: the server, SERVING when it is ready
 *       (what ServerReady says) and NOT_SERVING while models load and from the moment shutdown begins;
 *   <li>{@code MODEL}: that model's default version (its {@code production} alias, else the highest
 *       ready version), as ModelReady with an empty version;
 *   <li>{@code MODEL/VERSION}: a version number or alias of the model.
 * </ul>
 * A model the server does not know is NOT_FOUND for Check and SERVICE_UNKNOWN for Watch, as the
 * health protocol says; every model is NOT_SERVING once shutdown begins.
 *
 * <p>Statuses are read from the core when asked rather than pushed into a table (as grpc-java's
 * {@code HealthStatusManager} would need): models come and go with the registry, and the core
 * already knows their state. Watches are re-read every {@value #WATCH_PERIOD_MILLIS} ms and when
 * shutdown begins, and get a message only when their status changes.
 */
final class GrpcHealth extends HealthGrpc.HealthImplBase {
    static final long WATCH_PERIOD_MILLIS = 250;
    private static final String SERVER = GRPCInferenceServiceGrpc.SERVICE_NAME;

    private final InferenceService core;
    private final InFlight inFlight;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    // its thread starts with the first watch
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("berth-grpc-health").factory());
    private final AtomicBoolean polling = new AtomicBoolean();

    GrpcHealth(InferenceService core, InFlight inFlight) {
        this.core = core;
        this.inFlight = inFlight;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        ServingStatus status = status(request.getService());
        if (status == ServingStatus.SERVICE_UNKNOWN) {
            out.onError(Status.NOT_FOUND.withDescription("unknown service '" + request.getService()
                    + "': ask for '' or '" + SERVER + "' (the server), a model name, or MODEL/VERSION").asRuntimeException());
            return;
        }
        out.onNext(response(status));
        out.onCompleted();
    }

    @Override
    public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        Watch watch = new Watch(request.getService(), (ServerCallStreamObserver<HealthCheckResponse>) out);
        watch.out.setOnCancelHandler(() -> watches.remove(watch));
        watches.add(watch);
        watch.update();
        if (polling.compareAndSet(false, true)) {
            try {
                poller.scheduleWithFixedDelay(this::refresh, WATCH_PERIOD_MILLIS, WATCH_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closed meanwhile: the server is stopping and ends this watch
            }
        }
    }

    /** The status of one service name, read from the core now. */
    ServingStatus status(String service) {
        if (service.isEmpty() || service.equals(SERVER)) {
            return core.ready() && !inFlight.draining() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        }
        int slash = service.indexOf('/');
        String model = slash < 0 ? service : service.substring(0, slash);
        String version = slash < 0 ? null : service.substring(slash + 1);
        try {
            boolean ready = core.modelReady(model, version == null || version.isEmpty() ? null : version);
            return ready && !inFlight.draining() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        } catch (InferenceException.NotFound | ModelNotFoundException e) {
            return ServingStatus.SERVICE_UNKNOWN;
        } catch (RuntimeException e) {
            return ServingStatus.NOT_SERVING;
        }
    }

    /** Sends every watch whose status changed its new status. */
    void refresh() {
        for (Watch w : watches) {
            try {
                w.update();
            } catch (RuntimeException e) {
                // a watch whose call has gone: its cancel handler removes it
                watches.remove(w);
            }
        }
    }

    /** Ends every watch (after a last update, NOT_SERVING by then) so the gRPC server can finish shutting down. */
    void close() {
        poller.shutdownNow();
        refresh();
        for (Watch w : watches) {
            w.end();
        }
        watches.clear();
    }

    private static HealthCheckResponse response(ServingStatus status) {
        return HealthCheckResponse.newBuilder().setStatus(status).build();
    }

    private final class Watch {
        private final String service;
        private final ServerCallStreamObserver<HealthCheckResponse> out;
        private ServingStatus last;
        private boolean ended;

        Watch(String service, ServerCallStreamObserver<HealthCheckResponse> out) {
            this.service = service;
            this.out = out;
        }

        /** A response observer takes one caller at a time: the call's thread and the poller take turns here. */
        synchronized void update() {
            if (ended || out.isCancelled()) {
                return;
            }
            ServingStatus now = status(service);
            if (now != last) {
                last = now;
                out.onNext(response(now));
            }
        }

        synchronized void end() {
            if (!ended && !out.isCancelled()) {
                ended = true;
                out.onError(Status.UNAVAILABLE.withDescription("server is shutting down").asRuntimeException());
            }
        }
    }
}
