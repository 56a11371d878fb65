package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversion between the core's {@link Tensor} and ONNX Runtime's {@link OnnxTensor}.
 *
 * <p>Fixed-width inputs are handed to ONNX Runtime as direct buffers, which it reads in place; a
 * tensor whose buffer is already direct (the binary and gRPC codecs can produce one) is not copied
 * at all. Outputs are copied once out of native memory (the native value is freed right after the
 * run) and then sliced, never copied again.
 *
 * <p>The ONNX Runtime Java API has no {@link OnnxJavaType} for UINT16, UINT32 or UINT64, so
 * its public factories can only make signed tensors, which a session rejects for an unsigned input.
 * For those three types this class calls the library's own package-private native factory with the
 * unsigned ONNX element type (see {@link UnsignedFactory}). Outputs of those types need no trick:
 * their bytes are read as they are.
 */
final class OnnxTensors {
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private OnnxTensors() {
    }

    /** The ONNX Runtime tensor for a validated core tensor. The caller closes it. */
    static OnnxTensor toOnnx(OrtEnvironment env, Tensor tensor) throws OrtException {
        long[] shape = tensor.shape();
        if (tensor.datatype() == DataType.BYTES) {
            return OnnxTensor.createTensor(env, decodeStrings(tensor.name(), tensor.bytesElements()), shape);
        }
        ByteBuffer data = direct(tensor.data());
        return switch (tensor.datatype()) {
            case BOOL -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.BOOL);
            case UINT8 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.UINT8);
            case INT8 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT8);
            case INT16 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT16);
            case INT32 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT32);
            case INT64 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT64);
            case FP16 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.FLOAT16);
            case BF16 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.BFLOAT16);
            case FP32 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.FLOAT);
            case FP64 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.DOUBLE);
            case UINT16 -> UnsignedFactory.create(env, data, shape, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16);
            case UINT32 -> UnsignedFactory.create(env, data, shape, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32);
            case UINT64 -> UnsignedFactory.create(env, data, shape, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64);
            case BYTES -> throw new IllegalStateException("handled above");
        };
    }

    /** A string tensor built from already decoded strings (used when requests are merged). */
    static OnnxTensor strings(OrtEnvironment env, String[] values, long[] shape) throws OrtException {
        return OnnxTensor.createTensor(env, values, shape);
    }

    /** Copies an ONNX Runtime output into a core tensor named {@code name}. */
    static Tensor fromOnnx(String name, OnnxTensor value) throws OrtException {
        TensorInfo info = value.getInfo();
        DataType type = OnnxTypes.toDataType(info.onnxType).orElseThrow(() ->
                new InferenceException.Internal("output '" + name + "' has element type " + info.onnxType
                        + ", which the inference protocol cannot carry", null));
        long[] shape = info.getShape();
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>((int) Math.max(0, info.getNumElements()));
            flattenStrings(value.getValue(), elements);
            return Tensor.ofBytes(name, shape, elements);
        }
        // getByteBuffer copies the native memory into a heap buffer in native order
        ByteBuffer bytes = value.getByteBuffer();
        if (!LITTLE_ENDIAN) {
            bytes = swapToLittleEndian(bytes, type.byteSize());
        }
        return Tensor.ofRaw(name, type, shape, bytes);
    }

    /** Strings of a BYTES tensor, which must be valid UTF-8 because ONNX strings are text. */
    static String[] decodeStrings(String tensorName, List<byte[]> elements) {
        String[] out = new String[elements.size()];
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = 0; i < out.length; i++) {
            byte[] element = elements.get(i);
            try {
                CharBuffer chars = decoder.reset().decode(ByteBuffer.wrap(element));
                out[i] = chars.toString();
            } catch (CharacterCodingException e) {
                throw new InferenceException.InvalidInput("input '" + tensorName + "': element " + i
                        + " is not valid UTF-8, but the model takes text (ONNX string tensor)");
            }
        }
        return out;
    }

    /** A direct buffer with the bytes of {@code data}: the buffer itself when it already is one. */
    static ByteBuffer direct(ByteBuffer data) {
        if (data.isDirect() && LITTLE_ENDIAN) {
            return data;
        }
        ByteBuffer copy = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
        copy.put(data.duplicate());
        copy.flip();
        return copy;
    }

    private static void flattenStrings(Object value, List<byte[]> out) {
        if (value instanceof String s) {
            out.add(s.getBytes(StandardCharsets.UTF_8));
        } else if (value != null && value.getClass().isArray()) {
            int n = Array.getLength(value);
            for (int i = 0; i < n; i++) {
                flattenStrings(Array.get(value, i), out);
            }
        } else {
            throw new IllegalStateException("unexpected string tensor value " + value);
        }
    }

    private static ByteBuffer swapToLittleEndian(ByteBuffer nativeOrder, int width) {
        ByteBuffer out = ByteBuffer.allocate(nativeOrder.remaining());
        byte[] tmp = new byte[width];
        ByteBuffer in = nativeOrder.duplicate();
        while (in.remaining() >= width) {
            in.get(tmp);
            for (int i = width - 1; i >= 0; i--) {
                out.put(tmp[i]);
            }
        }
        out.flip();
        return out;
    }

    /**
     * Makes UINT16/UINT32/UINT64 input tensors. ONNX Runtime's Java binding already has the
     * native factory that takes any ONNX element type ({@code OnnxTensor.createTensorFromBuffer});
     * only its public wrappers are restricted to the Java types. We reach the package-private
     * pieces once, reflectively, and fail with a clear message if a future release moves them.
     */
    static final class UnsignedFactory {
        private static final Object[] HANDLES = lookUp();

        private UnsignedFactory() {
        }

        static OnnxTensor create(OrtEnvironment env, ByteBuffer directData, long[] shape,
                                 TensorInfo.OnnxTensorType onnxType) throws OrtException {
            if (HANDLES[0] instanceof Throwable failure) {
                throw new InferenceException.Internal("this ONNX Runtime build cannot take " + onnxType
                        + " inputs from Java: " + failure, failure);
            }
            Method createFromBuffer = (Method) HANDLES[0];
            Field apiHandle = (Field) HANDLES[1];
            Field defaultAllocator = (Field) HANDLES[2];
            Field allocatorHandle = (Field) HANDLES[3];
            Constructor<?> tensorInfo = (Constructor<?>) HANDLES[4];
            Constructor<?> onnxTensor = (Constructor<?>) HANDLES[5];
            // the signed Java type of the same width: what the binding reports for reads
            OnnxJavaType javaType = switch (onnxType) {
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> OnnxJavaType.INT16;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> OnnxJavaType.INT32;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> OnnxJavaType.INT64;
                default -> throw new IllegalArgumentException(onnxType + " is not an unsigned type this factory makes");
            };
            try {
                long api = apiHandle.getLong(null);
                Object allocator = defaultAllocator.get(env);
                long alloc = allocatorHandle.getLong(allocator);
                long handle = (long) createFromBuffer.invoke(null, api, alloc, (Buffer) directData,
                        directData.position(), (long) directData.remaining(), shape.clone(), onnxType.value);
                Object info = tensorInfo.newInstance(shape.clone(), javaType, onnxType);
                return (OnnxTensor) onnxTensor.newInstance(handle, alloc, info, directData, false);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof OrtException ort) {
                    throw ort;
                }
                throw new InferenceException.Internal("cannot create a " + onnxType + " tensor: " + e.getCause(), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new InferenceException.Internal("cannot create a " + onnxType + " tensor: " + e, e);
            }
        }

        /** True when unsigned inputs can be made with this ONNX Runtime build. */
        static boolean available() {
            return !(HANDLES[0] instanceof Throwable);
        }

        private static Object[] lookUp() {
            try {
                OrtNatives.environment(); // loads the native library and sets the API handle
                Class<?> runtime = Class.forName("ai.onnxruntime.OnnxRuntime");
                Field apiHandle = runtime.getDeclaredField("ortApiHandle");
                apiHandle.setAccessible(true);
                Field defaultAllocator = OrtEnvironment.class.getDeclaredField("defaultAllocator");
                defaultAllocator.setAccessible(true);
                Class<?> allocatorClass = Class.forName("ai.onnxruntime.OrtAllocator");
                Field allocatorHandle = allocatorClass.getDeclaredField("handle");
                allocatorHandle.setAccessible(true);
                Method create = OnnxTensor.class.getDeclaredMethod("createTensorFromBuffer",
                        long.class, long.class, Buffer.class, int.class, long.class, long[].class, int.class);
                create.setAccessible(true);
                Constructor<TensorInfo> info = TensorInfo.class.getDeclaredConstructor(long[].class,
                        OnnxJavaType.class, TensorInfo.OnnxTensorType.class);
                info.setAccessible(true);
                Constructor<OnnxTensor> tensor = OnnxTensor.class.getDeclaredConstructor(long.class, long.class,
                        TensorInfo.class, Buffer.class, boolean.class);
                tensor.setAccessible(true);
                return new Object[] {create, apiHandle, defaultAllocator, allocatorHandle, info, tensor};
            } catch (ReflectiveOperationException | RuntimeException e) {
                System.getLogger(OnnxTensors.class.getName()).log(System.Logger.Level.WARNING,
                        "UINT16/UINT32/UINT64 inputs are not available with this ONNX Runtime: " + e);
                return new Object[] {e};
            }
        }
    }
}
