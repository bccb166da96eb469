using System.Reflection;
using System.Reflection.Emit;
using Bus.Tests.Support;

namespace Bus.Tests.Consuming;

/// <summary>
/// An assembly made at run time holding only the types the scanning tests need, so that <c>AddConsumers</c> is tested
/// on an assembly whose every type is known (this test assembly holds hundreds of consumers):
/// <list type="bullet">
/// <item><c>Scanned.Orders.JobConsumer</c> (public) and <c>Scanned.Orders.HiddenJobConsumer</c> (internal): consumers of
/// <see cref="Job"/> that record what they consume, named <c>JobConsumer</c> and <c>HiddenJobConsumer</c>;</item>
/// <item><c>Scanned.PingBatchConsumer</c>: a batch consumer of <see cref="Ping"/>;</item>
/// <item><c>Scanned.AbstractConsumer</c> and <c>Scanned.GenericConsumer`1</c>: an abstract and an open generic consumer;</item>
/// <item><c>Scanned.Helper</c>: a class that consumes nothing.</item>
/// </list>
/// </summary>
internal static class ScannedAssembly
{
    private const MethodAttributes Implementation =
        MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.Final | MethodAttributes.HideBySig | MethodAttributes.NewSlot;

    public static Assembly Instance { get; } = Build();

    public static Type JobConsumer => Instance.GetType("Scanned.Orders.JobConsumer", throwOnError: true)!;

    public static Type HiddenJobConsumer => Instance.GetType("Scanned.Orders.HiddenJobConsumer", throwOnError: true)!;

    private static Assembly Build()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Bus.Tests.Scanned"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("Bus.Tests.Scanned");
        DefineRecordingConsumer(module, "Scanned.Orders.JobConsumer", TypeAttributes.Public, "JobConsumer");
        DefineRecordingConsumer(module, "Scanned.Orders.HiddenJobConsumer", TypeAttributes.NotPublic, "HiddenJobConsumer");
        DefineThrowingConsumer(module, "Scanned.PingBatchConsumer", typeof(IBatchConsumer<Ping>), typeof(Batch<Ping>));
        DefineAbstractConsumer(module);
        DefineOpenGenericConsumer(module);
        module.DefineType("Scanned.Helper", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class).CreateType();
        return assembly;
    }

    /// <summary><c>sealed class {name}(Recorder recorder) : IConsumer&lt;Job&gt;</c>, recording through <see cref="ScanProbe"/>.</summary>
    private static void DefineRecordingConsumer(ModuleBuilder module, string name, TypeAttributes visibility, string recordedName)
    {
        var type = module.DefineType(name, visibility | TypeAttributes.Sealed | TypeAttributes.Class, typeof(object), [typeof(IConsumer<Job>)]);
        var recorder = type.DefineField("_recorder", typeof(Recorder), FieldAttributes.Private | FieldAttributes.InitOnly);

        var constructor = type.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(Recorder)]);
        var il = constructor.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, typeof(object).GetConstructor(Type.EmptyTypes)!);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Stfld, recorder);
        il.Emit(OpCodes.Ret);

        var consume = type.DefineMethod("ConsumeAsync", Implementation, typeof(ValueTask), [typeof(ConsumeContext<Job>), typeof(CancellationToken)]);
        il = consume.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldfld, recorder);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldstr, recordedName);
        il.Emit(OpCodes.Call, typeof(ScanProbe).GetMethod(nameof(ScanProbe.Consume))!);
        il.Emit(OpCodes.Ret);
        type.DefineMethodOverride(consume, typeof(IConsumer<Job>).GetMethod("ConsumeAsync")!);
        type.CreateType();
    }

    /// <summary>A sealed consumer with a default constructor whose <c>ConsumeAsync</c> throws.</summary>
    private static void DefineThrowingConsumer(ModuleBuilder module, string name, Type contract, Type argument)
    {
        var type = module.DefineType(name, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(object), [contract]);
        type.DefineDefaultConstructor(MethodAttributes.Public);
        var consume = type.DefineMethod("ConsumeAsync", Implementation, typeof(ValueTask), [argument, typeof(CancellationToken)]);
        EmitThrow(consume.GetILGenerator());
        type.DefineMethodOverride(consume, contract.GetMethod("ConsumeAsync")!);
        type.CreateType();
    }

    /// <summary><c>abstract class AbstractConsumer : IConsumer&lt;Job&gt;</c>, its method left abstract.</summary>
    private static void DefineAbstractConsumer(ModuleBuilder module)
    {
        var type = module.DefineType("Scanned.AbstractConsumer", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Class, typeof(object), [typeof(IConsumer<Job>)]);
        type.DefineDefaultConstructor(MethodAttributes.Family);
        var consume = type.DefineMethod(
            "ConsumeAsync",
            MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.Abstract | MethodAttributes.HideBySig | MethodAttributes.NewSlot,
            typeof(ValueTask),
            [typeof(ConsumeContext<Job>), typeof(CancellationToken)]);
        type.DefineMethodOverride(consume, typeof(IConsumer<Job>).GetMethod("ConsumeAsync")!);
        type.CreateType();
    }

    /// <summary><c>sealed class GenericConsumer&lt;TMessage&gt; : IConsumer&lt;TMessage&gt;</c>.</summary>
    private static void DefineOpenGenericConsumer(ModuleBuilder module)
    {
        var type = module.DefineType("Scanned.GenericConsumer`1", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class);
        var message = type.DefineGenericParameters("TMessage")[0];
        var contract = typeof(IConsumer<>).MakeGenericType(message);
        type.AddInterfaceImplementation(contract);
        type.DefineDefaultConstructor(MethodAttributes.Public);
        var consume = type.DefineMethod("ConsumeAsync", Implementation, typeof(ValueTask), [typeof(ConsumeContext<>).MakeGenericType(message), typeof(CancellationToken)]);
        EmitThrow(consume.GetILGenerator());
        type.DefineMethodOverride(consume, TypeBuilder.GetMethod(contract, typeof(IConsumer<>).GetMethod("ConsumeAsync")!));
        type.CreateType();
    }

    private static void EmitThrow(ILGenerator il)
    {
        il.Emit(OpCodes.Newobj, typeof(NotSupportedException).GetConstructor(Type.EmptyTypes)!);
        il.Emit(OpCodes.Throw);
    }
}

/// <summary>What the emitted consumers call: public, so code in another assembly may call it.</summary>
public static class ScanProbe
{
    public static ValueTask Consume(Recorder recorder, ConsumeContext<Job> context, string consumer)
    {
        recorder.Record(context, consumer);
        return default;
    }
}
