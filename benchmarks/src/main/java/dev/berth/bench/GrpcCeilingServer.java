package dev.berth.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC transport ceiling: a bare grpc-java server (Netty, the transport berth's gRPC front end
 * uses, with the same virtual-thread-per-call executor and default settings) whose one method,
 * {@code inference.GRPCInferenceService/ModelInfer}, reads each request message in full and answers
 * a fixed, pre-serialized response, without parsing or inference. The response is berth's own
 * answer to the benchmark's request, fetched from a running berth once at start through grpc-java's
 * client, so both servers put the same bytes on the wire.
 */
public final class GrpcCeilingServer {
    static final String METHOD = "inference.GRPCInferenceService/ModelInfer";

    private GrpcCeilingServer() {
    }

    /** Bytes in, bytes out: the message as it came, no protobuf. */
    static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static MethodDescriptor<byte[], byte[]> method() {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(METHOD).setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();
    }

    /** Starts on 127.0.0.1:{@code port} answering every ModelInfer with {@code response}. */
    static Server start(int port, byte[] response) throws IOException {
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ceiling-grpc-", 0).factory());
        ServerServiceDefinition service = ServerServiceDefinition.builder("inference.GRPCInferenceService")
                .addMethod(method(), ServerCalls.asyncUnaryCall((request, observer) -> {
                    observer.onNext(response);
                    observer.onCompleted();
                }))
                .build();
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).executor(executor)
                .addService(service).build().start();
    }

    /** berth's answer to {@code request} (one serialized ModelInferRequest), through grpc-java's client. */
    static byte[] record(String target, byte[] request) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            return ClientCalls.blockingUnaryCall(channel, method(), CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * {@code grpc-ceiling-server --port P --record-from HOST:PORT --request FILE}: {@code FILE} is the
     * gRPC-framed request body h2load sends (5-byte length prefix, then the message); the answer to
     * it is fetched from berth at {@code HOST:PORT} and served until the process is killed.
     */
    static void main(List<String> args) throws Exception {
        Args a = new Args(args);
        byte[] framed = Files.readAllBytes(Path.of(a.required("--request")));
        if (framed.length < 5 || framed[0] != 0) {
            throw new IllegalArgumentException("--request must be an uncompressed, length-prefixed gRPC message");
        }
        byte[] response = record(a.required("--record-from"), Arrays.copyOfRange(framed, 5, framed.length));
        Server server = start(Integer.parseInt(a.required("--port")), response);
        System.out.println("grpc ceiling on 127.0.0.1:" + server.getPort() + " answering " + response.length + " bytes");
        server.awaitTermination();
    }
}
