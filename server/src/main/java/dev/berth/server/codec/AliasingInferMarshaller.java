package dev.berth.server.codec;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Request marshaller for {@code ModelInfer} that parses with aliasing: the message is read into one
 * array of its own and every {@code bytes} field ({@code raw_input_contents} above all) is a view of
 * that array instead of a copy. With {@link OipProto#readInferRequest} wrapping those views, a raw
 * tensor goes from the received message to the core without another copy.
 *
 * <p>grpc-java's default protobuf marshaller copies each {@code bytes} field out of its read buffer,
 * and that buffer is thread-local: on Helidon's virtual threads it is a fresh array per request, so
 * the default costs two tensor-sized allocations per request where this one costs one.
 *
 * <p>Aliasing is safe here because the array is allocated per message and never written after the
 * parse; the tensors built on it are read-only views.
 */
public final class AliasingInferMarshaller implements MethodDescriptor.Marshaller<ModelInferRequest> {
    private static final int RECURSION_LIMIT = 100;

    private final MethodDescriptor.Marshaller<ModelInferRequest> original;

    private AliasingInferMarshaller(MethodDescriptor.Marshaller<ModelInferRequest> original) {
        this.original = original;
    }

    /** The marshaller, writing requests as the generated one does (only servers read with it). */
    public static AliasingInferMarshaller create() {
        return new AliasingInferMarshaller(GRPCInferenceServiceGrpc.getModelInferMethod().getRequestMarshaller());
    }

    @Override
    public InputStream stream(ModelInferRequest value) {
        return original.stream(value);
    }

    @Override
    public ModelInferRequest parse(InputStream stream) {
        byte[] message;
        try {
            message = readAll(stream);
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("could not read the request message").withCause(e).asRuntimeException();
        }
        return parseAliased(message);
    }

    /**
     * Parses a whole serialized request so that its {@code bytes} fields share {@code message}: the
     * caller must not change the array while the request (or anything decoded from it) is in use.
     *
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT when the bytes are not a ModelInferRequest
     */
    public static ModelInferRequest parseAliased(byte[] message) {
        // protobuf aliases only input it was told is immutable: CodedInputStream.newInstance(byte[])
        // is not, while a wrapped ByteString's coded input is
        CodedInputStream in = UnsafeByteOperations.unsafeWrap(message).newCodedInput();
        in.enableAliasing(true);
        in.setRecursionLimit(RECURSION_LIMIT);
        try {
            ModelInferRequest request = ModelInferRequest.parser().parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
            in.checkLastTagWas(0);
            return request;
        } catch (InvalidProtocolBufferException e) {
            throw Status.INVALID_ARGUMENT.withDescription("the ModelInferRequest message is not valid protobuf: "
                    + e.getMessage()).asRuntimeException();
        }
    }

    /** Reads to the end, in one exactly sized array when the stream knows its length (Helidon's does). */
    private static byte[] readAll(InputStream stream) throws IOException {
        int known = stream.available();
        if (known <= 0) {
            return stream.readAllBytes();
        }
        byte[] message = stream.readNBytes(known);
        int next = stream.read();
        if (next == -1) {
            return message;
        }
        // available() was a lower bound, not the whole: read the rest and join (one more copy)
        byte[] rest = stream.readAllBytes();
        byte[] all = new byte[message.length + 1 + rest.length];
        System.arraycopy(message, 0, all, 0, message.length);
        all[message.length] = (byte) next;
        System.arraycopy(rest, 0, all, message.length + 1, rest.length);
        return all;
    }

    /**
     * The service's definition with {@code ModelInfer} reading through this marshaller; every other
     * method, and the service's schema descriptor (for reflection), stay as generated.
     */
    public static BindableService aliasingModelInfer(BindableService service) {
        ServerServiceDefinition generated = service.bindService();
        MethodDescriptor<ModelInferRequest, ?> infer = GRPCInferenceServiceGrpc.getModelInferMethod();
        ServiceDescriptor old = generated.getServiceDescriptor();
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
            methods.add(m.getMethodDescriptor().getFullMethodName().equals(infer.getFullMethodName()) ? aliased(m) : m);
        }
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(old.getName())
                .setSchemaDescriptor(old.getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(definition::addMethod);
        ServerServiceDefinition replaced = definition.build();
        return () -> replaced;
    }

    @SuppressWarnings("unchecked")
    private static <R> ServerMethodDefinition<ModelInferRequest, R> aliased(ServerMethodDefinition<?, ?> m) {
        ServerMethodDefinition<ModelInferRequest, R> typed = (ServerMethodDefinition<ModelInferRequest, R>) m;
        MethodDescriptor<ModelInferRequest, R> md = typed.getMethodDescriptor();
        return ServerMethodDefinition.create(md.toBuilder(create(), md.getResponseMarshaller()).build(),
                typed.getServerCallHandler());
    }
}
