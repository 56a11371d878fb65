package dev.berth.server.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Request marshaller for {@code ModelInfer} and {@code ModelStreamInfer} that parses with aliasing:
 * the message is read into one array of its own and every {@code bytes} field
 * ({@code raw_input_contents} above all) is a view of that array instead of a copy. With
 * {@link OipProto#readInferRequest} wrapping those views, a raw tensor goes from the received message
 * to the core with one copy (out of the transport's buffers) instead of two.
 *
 * <p>grpc-java's generated protobuf marshaller reads a large message into an array too, but parses
 * it without aliasing, so each {@code bytes} field is copied again out of that array.
 *
 * <p>Aliasing is safe because nothing writes the array after the parse: it belongs to this
 * marshaller (grpc-java's own buffers, which it recycles once the parse returns, are only read),
 * and the tensors built on it are read-only views.
 */
public final class AliasingInferMarshaller implements MethodDescriptor.Marshaller<ModelInferRequest> {
    private static final int RECURSION_LIMIT = 100;
    /** The largest field number protobuf allows; the OIP schema will not reach it. */
    private static final int MALFORMED_FIELD = (1 << 29) - 1;

    private final MethodDescriptor.Marshaller<ModelInferRequest> original;
    private final boolean markMalformed;

    private AliasingInferMarshaller(boolean markMalformed) {
        this.original = GRPCInferenceServiceGrpc.getModelInferMethod().getRequestMarshaller();
        this.markMalformed = markMalformed;
    }

    /**
     * The marshaller, writing requests as the generated one does (only servers read with it); a
     * malformed message fails with INVALID_ARGUMENT.
     */
    public static AliasingInferMarshaller create() {
        return new AliasingInferMarshaller(false);
    }

    @Override
    public InputStream stream(ModelInferRequest value) {
        return original.stream(value);
    }

    @Override
    public ModelInferRequest parse(InputStream stream) {
        try {
            return parse(readAll(stream));
        } catch (InvalidProtocolBufferException e) {
            return fail(Status.INVALID_ARGUMENT.withDescription(problem(e)));
        } catch (IOException e) {
            return fail(Status.INVALID_ARGUMENT.withDescription("could not read the request message: " + e.getMessage()));
        } catch (StatusRuntimeException e) {
            // grpc-java's inflater refuses a compressed message that inflates past the size limit
            return fail(e.getStatus());
        }
    }

    /**
     * On the server a message that cannot be read becomes a marked request ({@link #unreadable})
     * that the handler answers like any other bad request: with the status for ModelInfer, with an
     * {@code error_message} for that one message of a stream, which goes on. A marshaller that
     * throws would end the whole call as UNKNOWN "Application error processing RPC" (grpc-java).
     */
    private ModelInferRequest fail(Status status) {
        if (markMalformed) {
            return marked(status);
        }
        throw status.asRuntimeException();
    }

    /**
     * Parses a whole serialized request so that its {@code bytes} fields share {@code message}: the
     * caller must not change the array while the request (or anything decoded from it) is in use.
     *
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT when the bytes are not a ModelInferRequest
     */
    public static ModelInferRequest parseAliased(byte[] message) {
        try {
            return parse(message);
        } catch (InvalidProtocolBufferException e) {
            throw Status.INVALID_ARGUMENT.withDescription(problem(e)).asRuntimeException();
        }
    }

    private static ModelInferRequest parse(byte[] message) throws InvalidProtocolBufferException {
        return parse(UnsafeByteOperations.unsafeWrap(message));
    }

    private static ModelInferRequest parse(ByteString message) throws InvalidProtocolBufferException {
        // protobuf aliases only input it was told is immutable: CodedInputStream.newInstance(byte[])
        // is not, while a wrapped ByteString's coded input is
        CodedInputStream in = message.newCodedInput();
        in.enableAliasing(true);
        in.setRecursionLimit(RECURSION_LIMIT);
        ModelInferRequest request = ModelInferRequest.parser().parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
        in.checkLastTagWas(0);
        return request;
    }

    private static String problem(InvalidProtocolBufferException e) {
        return "the ModelInferRequest message is not valid protobuf: " + e.getMessage();
    }

    /**
     * A request carrying only the problem, {@code CODE:description}, in a field number no
     * ModelInferRequest uses.
     */
    private static ModelInferRequest marked(Status status) {
        String problem = status.getCode().value() + ":" + (status.getDescription() == null ? "" : status.getDescription());
        return ModelInferRequest.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
                .addField(MALFORMED_FIELD, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8(problem)).build())
                .build()).build();
    }

    /**
     * Why the server-side marshaller could not read a request (INVALID_ARGUMENT: not protobuf;
     * RESOURCE_EXHAUSTED: inflated past the size limit), or null for a request that parsed.
     */
    public static Status unreadable(ModelInferRequest request) {
        UnknownFieldSet unknown = request.getUnknownFields();
        if (!unknown.hasField(MALFORMED_FIELD) || request.getInputsCount() > 0 || !request.getModelName().isEmpty()) {
            return null;
        }
        List<ByteString> values = unknown.getField(MALFORMED_FIELD).getLengthDelimitedList();
        if (values.isEmpty()) {
            return null;
        }
        String problem = values.get(0).toStringUtf8();
        int colon = problem.indexOf(':');
        return Status.fromCodeValue(Integer.parseInt(problem.substring(0, colon))).withDescription(problem.substring(colon + 1));
    }

    /** Reads to the end, in one exactly sized array when the stream knows its length (grpc-java's does). */
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
     * The service's definition with {@code ModelInfer} and {@code ModelStreamInfer} reading through
     * this marshaller (unreadable messages marked, see {@link #unreadable}); every other method, and
     * the service's schema descriptor (for reflection), stay as generated.
     */
    public static ServerServiceDefinition aliasingInfer(BindableService service) {
        ServerServiceDefinition generated = service.bindService();
        Set<String> aliased = Set.of(GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName(),
                GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName());
        ServiceDescriptor old = generated.getServiceDescriptor();
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
            methods.add(aliased.contains(m.getMethodDescriptor().getFullMethodName()) ? aliased(m) : m);
        }
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(old.getName())
                .setSchemaDescriptor(old.getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(definition::addMethod);
        return definition.build();
    }

    @SuppressWarnings("unchecked")
    private static <R> ServerMethodDefinition<ModelInferRequest, R> aliased(ServerMethodDefinition<?, ?> m) {
        ServerMethodDefinition<ModelInferRequest, R> typed = (ServerMethodDefinition<ModelInferRequest, R>) m;
        MethodDescriptor<ModelInferRequest, R> md = typed.getMethodDescriptor();
        return ServerMethodDefinition.create(md.toBuilder(new AliasingInferMarshaller(true), md.getResponseMarshaller()).build(),
                typed.getServerCallHandler());
    }
}
