package dev.berth.server;

import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.ModelStatus;
import dev.berth.server.codec.AliasingInferMarshaller;
import dev.berth.server.codec.OipProto;
import dev.berth.server.codec.TritonModelConfig;
import dev.berth.server.codec.TritonStatistics;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelConfigRequest;
import dev.berth.server.grpc.proto.ModelConfigResponse;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ModelMetadataRequest;
import dev.berth.server.grpc.proto.ModelMetadataResponse;
import dev.berth.server.grpc.proto.ModelStreamInferResponse;
import dev.berth.server.grpc.proto.ModelStatisticsRequest;
import dev.berth.server.grpc.proto.ModelStatisticsResponse;
import dev.berth.server.grpc.proto.ModelReadyRequest;
import dev.berth.server.grpc.proto.ModelReadyResponse;
import dev.berth.server.grpc.proto.RepositoryIndexRequest;
import dev.berth.server.grpc.proto.RepositoryIndexResponse;
import dev.berth.server.grpc.proto.RepositoryModelLoadRequest;
import dev.berth.server.grpc.proto.RepositoryModelLoadResponse;
import dev.berth.server.grpc.proto.RepositoryModelUnloadRequest;
import dev.berth.server.grpc.proto.RepositoryModelUnloadResponse;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import dev.berth.server.grpc.proto.ServerLiveResponse;
import dev.berth.server.grpc.proto.ServerMetadataRequest;
import dev.berth.server.grpc.proto.ServerMetadataResponse;
import dev.berth.server.grpc.proto.ServerReadyRequest;
import dev.berth.server.grpc.proto.ServerReadyResponse;
import dev.berth.server.spi.ServerMonitoring;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code inference.GRPCInferenceService} over the same core as REST: it decodes each message and
 * encodes the answer; inference runs through the {@link InferenceExchange} it shares with REST, and
 * failures leave as the gRPC status codes {@link #status} gives each {@link Failure} kind.
 */
final class OipGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    /** Carries the caller's authorization header from the interceptor to the repository RPCs. */
    static final Context.Key<String> AUTHORIZATION = Context.key("authorization");
    private static final Metadata.Key<String> AUTHORIZATION_HEADER =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final InferenceService core;
    private final ServerInfo info;
    private final InferenceExchange exchange;
    private final RepositoryAccess repository;
    private final Optional<ServerMonitoring> monitoring;

    OipGrpcService(InferenceService core, ServerInfo info, InferenceExchange exchange, RepositoryAccess repository,
                   Optional<ServerMonitoring> monitoring) {
        this.core = core;
        this.info = info;
        this.exchange = exchange;
        this.repository = repository;
        this.monitoring = monitoring;
    }

    /** Puts the authorization header where the repository RPCs can check it. */
    static ServerInterceptor authorizationInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                String value = headers.get(AUTHORIZATION_HEADER);
                Context ctx = Context.current().withValue(AUTHORIZATION, value == null ? "" : value);
                return Contexts.interceptCall(ctx, call, headers, next);
            }
        };
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        answer(out, () -> ServerLiveResponse.newBuilder().setLive(core.live()).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        answer(out, () -> ServerReadyResponse.newBuilder().setReady(exchange.notReadyReason().isEmpty()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        answer(out, () -> ModelReadyResponse.newBuilder()
                .setReady(core.modelReady(request.getName(), blankToNull(request.getVersion()))).build());
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        answer(out, () -> ServerMetadataResponse.newBuilder()
                .setName(info.name()).setVersion(info.version()).addAllExtensions(info.extensions()).build());
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        answer(out, () -> OipProto.modelMetadata(core.modelMetadata(request.getName(), blankToNull(request.getVersion()))));
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
        InferenceExchange.Result<ModelInferResponse> answer = infer(request);
        if (answer.failed()) {
            out.onError(status(answer.failure()).asRuntimeException());
            return;
        }
        out.onNext(answer.answer());
        out.onCompleted();
    }

    /**
     * Triton's streaming inference: each request is answered, in order, by one
     * {@code ModelStreamInferResponse}; a request that fails gets its {@code error_message} (with the
     * request's model, version and id, so the client can tell which) and the stream goes on.
     * Requests are run one after the other: grpc-java asks the client for the next message once this
     * one is answered, which is the stream's back-pressure.
     */
    @Override
    public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ModelInferRequest request) {
                InferenceExchange.Result<ModelInferResponse> answer = infer(request);
                ModelStreamInferResponse.Builder b = ModelStreamInferResponse.newBuilder();
                if (!answer.failed()) {
                    b.setInferResponse(answer.answer());
                } else {
                    b.setErrorMessage(answer.failure().message()).setInferResponse(ModelInferResponse.newBuilder()
                            .setModelName(request.getModelName()).setModelVersion(request.getModelVersion())
                            .setId(request.getId()));
                }
                out.onNext(b.build());
            }

            @Override
            public void onError(Throwable t) {
                // the client cancelled or the connection broke: nothing is left to answer
            }

            @Override
            public void onCompleted() {
                out.onCompleted();
            }
        };
    }

    /** One inference request through the exchange; a message the marshaller could not read fails as it says. */
    private InferenceExchange.Result<ModelInferResponse> infer(ModelInferRequest request) {
        return exchange.infer(request.getModelName(), blankToNull(request.getModelVersion()), new InferenceExchange.Call<>() {
            private boolean rawResponse;

            @Override
            public InferenceExchange.Decoded decode(InferenceExchange.RequestSize sizes) {
                Status unreadable = AliasingInferMarshaller.unreadable(request);
                if (unreadable != null) {
                    throw unreadable.getCode() == Status.Code.RESOURCE_EXHAUSTED
                            ? new Failure.TooLarge(unreadable.getDescription())
                            : new InferenceException.InvalidInput(unreadable.getDescription());
                }
                sizes.read(request.getSerializedSize());
                OipProto.Decoded decoded = OipProto.readInferRequest(request);
                rawResponse = decoded.rawResponse();
                // the call's deadline, as grpc-java received it (grpc-timeout); past it the client has given up anyway
                Deadline deadline = Context.current().getDeadline();
                Duration callLeft = deadline == null ? null : Duration.ofNanos(deadline.timeRemaining(TimeUnit.NANOSECONDS));
                return new InferenceExchange.Decoded(decoded.request(), decoded.classification(), callLeft);
            }

            @Override
            public ModelInferResponse encode(InferenceResponse response) {
                return OipProto.writeInferResponse(response, rawResponse);
            }

            @Override
            public long size(ModelInferResponse encoded) {
                return encoded.getSerializedSize();
            }
        });
    }

    @Override
    public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> out) {
        answer(out, () -> ModelConfigResponse.newBuilder()
                .setConfig(TritonModelConfig.toProto(core.modelConfig(request.getName(), blankToNull(request.getVersion()))))
                .build());
    }

    @Override
    public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
        answer(out, () -> {
            authorize(false);
            RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
            for (ModelStatus s : exchange.repositoryIndex(request.getReady())) {
                b.addModels(RepositoryIndexResponse.ModelIndex.newBuilder()
                        .setName(s.name()).setVersion(Integer.toString(s.version()))
                        .setState(s.state().name()).setReason(s.reason() == null ? "" : s.reason()));
            }
            return b.build();
        });
    }

    @Override
    public void repositoryModelLoad(RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> out) {
        answer(out, () -> {
            authorize(true);
            exchange.changeRepository(request.getModelName(), true);
            return RepositoryModelLoadResponse.getDefaultInstance();
        });
    }

    @Override
    public void repositoryModelUnload(RepositoryModelUnloadRequest request, StreamObserver<RepositoryModelUnloadResponse> out) {
        answer(out, () -> {
            authorize(true);
            exchange.changeRepository(request.getModelName(), false);
            return RepositoryModelUnloadResponse.getDefaultInstance();
        });
    }

    @Override
    public void modelStatistics(ModelStatisticsRequest request, StreamObserver<ModelStatisticsResponse> out) {
        if (monitoring.isEmpty()) {
            out.onError(Status.UNIMPLEMENTED.withDescription(MonitoringRoutes.NO_STATISTICS).asRuntimeException());
            return;
        }
        answer(out, () -> TritonStatistics.toProto(monitoring.get().statistics(blankToNull(request.getName()),
                blankToNull(request.getVersion()))));
    }

    private void authorize(boolean change) {
        String header = AUTHORIZATION.get();
        String message = "the repository API needs 'authorization: Bearer <token>' metadata";
        if (change) {
            repository.checkChange(header == null ? "" : header, message);
        } else {
            repository.checkRead(header == null ? "" : header, message);
        }
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> work) {
        T value;
        try {
            value = work.get();
        } catch (RuntimeException e) {
            out.onError(status(Failure.of(e)).asRuntimeException());
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }

    /** The gRPC side of {@link Failure}. */
    static Status status(Failure failure) {
        Status code = switch (failure.kind()) {
            case INVALID, BROKEN_BODY -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case TOO_LARGE, OVER_MEMORY_LIMIT, TOO_MANY_REQUESTS -> Status.RESOURCE_EXHAUSTED;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
            case FORBIDDEN -> Status.PERMISSION_DENIED;
            case METHOD_NOT_ALLOWED -> Status.UNIMPLEMENTED;
            case INTERNAL -> Status.INTERNAL;
        };
        return code.withDescription(failure.message());
    }

    /** proto3 sends an unset string as "": that, and only that, means the default version (" " is a 404, as over REST). */
    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
