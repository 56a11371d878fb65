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
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;

import io.helidon.common.buffers.BufferData;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * <p>Aliasing is safe here because nothing writes the bytes after the parse: an array read from a
 * stream is this marshaller's own, and Helidon's buffer belongs to one call's handler, which only
 * refills it for a further message on the same call; ModelInfer is unary, and grpc-java's unary
 * handler refuses a second message without running the first. The tensors built on the bytes are
 * read-only views.
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
            ByteString received = helidonBuffer(stream);
            if (received != null) {
                return parse(received);
            }
            return parse(readAll(stream));
        } catch (InvalidProtocolBufferException e) {
            return fail(problem(e));
        } catch (IOException e) {
            return fail("could not read the request message: " + e.getMessage());
        }
    }

    /**
     * Helidon 4.5 does not answer a call whose request marshaller throws (the client waits out its
     * deadline), so on the server a malformed message becomes a marked request that the handler
     * from {@link #aliasingModelInfer} answers with INVALID_ARGUMENT.
     */
    private ModelInferRequest fail(String problem) {
        if (markMalformed) {
            return marked(problem);
        }
        throw Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException();
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

    /** A request carrying only the parse problem, in a field number no ModelInferRequest uses. */
    private static ModelInferRequest marked(String problem) {
        return ModelInferRequest.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
                .addField(MALFORMED_FIELD, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8(problem)).build())
                .build()).build();
    }

    /** The parse problem the server-side marshaller recorded, or null for a request that parsed. */
    static String malformed(ModelInferRequest request) {
        UnknownFieldSet unknown = request.getUnknownFields();
        if (!unknown.hasField(MALFORMED_FIELD) || request.getInputsCount() > 0 || !request.getModelName().isEmpty()) {
            return null;
        }
        List<ByteString> values = unknown.getField(MALFORMED_FIELD).getLengthDelimitedList();
        return values.isEmpty() ? null : values.get(0).toStringUtf8();
    }

    /**
     * The message bytes Helidon already holds, without copying them, or null where they cannot be
     * reached that way. Helidon 4.5 hands the marshaller an InputStream over a buffer it allocated
     * for this one message (a fresh one per message, dropped after the parse); reading that stream
     * into an array of our own would be a second tensor-sized copy per request. The stream class
     * and its field are Helidon internals, found reflectively once; when they are absent (another
     * Helidon version, a compressed message, a test's stream) the message is read as any stream.
     */
    private static ByteString helidonBuffer(InputStream stream) {
        if (HELIDON_STREAM == null || !HELIDON_STREAM.type().isInstance(stream)) {
            return null;
        }
        BufferData data = (BufferData) HELIDON_STREAM.field().get(stream);
        // writeTo hands its backing array to write(byte[], int, int) when the buffer is one array
        Capture capture = new Capture();
        data.writeTo(capture);
        return capture.message();
    }

    private record HelidonStream(Class<?> type, VarHandle field) {
    }

    private static final HelidonStream HELIDON_STREAM = findHelidonStream();

    private static HelidonStream findHelidonStream() {
        try {
            Class<?> type = Class.forName("io.helidon.webserver.grpc.GrpcProtocolHandler$BufferDataInputStream");
            VarHandle field = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVarHandle(type, "bufferData", BufferData.class);
            return new HelidonStream(type, field);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            System.getLogger(AliasingInferMarshaller.class.getName()).log(System.Logger.Level.DEBUG,
                    "Helidon's gRPC message buffer is out of reach; ModelInfer copies each message once", e);
            return null;
        }
    }

    /** Whether messages from Helidon are parsed in place (false: read into an array first). */
    static boolean readsHelidonBufferInPlace() {
        return HELIDON_STREAM != null;
    }

    /** Remembers the array of a single write; several writes are joined (a copy, as a stream read would be). */
    private static final class Capture extends OutputStream {
        private byte[] first;
        private int offset;
        private int length;
        private ByteArrayOutputStream joined;

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (first == null) {
                first = b;
                offset = off;
                length = len;
                return;
            }
            if (joined == null) {
                joined = new ByteArrayOutputStream(length + len);
                joined.write(first, offset, length);
            }
            joined.write(b, off, len);
        }

        ByteString message() {
            if (joined != null) {
                return UnsafeByteOperations.unsafeWrap(joined.toByteArray());
            }
            return first == null ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(first, offset, length);
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
        return ServerMethodDefinition.create(md.toBuilder(new AliasingInferMarshaller(true), md.getResponseMarshaller()).build(),
                answeringMalformed(typed.getServerCallHandler()));
    }

    private static <R> ServerCallHandler<ModelInferRequest, R> answeringMalformed(ServerCallHandler<ModelInferRequest, R> next) {
        return (call, headers) -> {
            ServerCall.Listener<ModelInferRequest> delegate = next.startCall(call, headers);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                private boolean answered;

                @Override
                public void onMessage(ModelInferRequest message) {
                    String problem = malformed(message);
                    if (problem == null) {
                        super.onMessage(message);
                    } else if (!answered) {
                        answered = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription(problem), new Metadata());
                    }
                }

                @Override
                public void onHalfClose() {
                    // the unary handler would answer "no request" on a call already closed above
                    if (!answered) {
                        super.onHalfClose();
                    }
                }
            };
        };
    }
}
