// A stand-in engine worker that dies while starting (like a broken native install).
throw new Error('cannot load onnxruntime binding');
