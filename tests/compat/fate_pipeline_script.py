"""Run by tests/compat/test_fate_client.py with the public fate-client 1.11 `pipeline` package."""

from pipeline.backend.pipeline import PipeLine
from pipeline.component import DataTransform, Evaluation, HeteroLR, Intersection, Reader
from pipeline.interface import Data

guest, host, arbiter = 9999, 10000, 10000
pipe = (
    PipeLine().set_initiator(role="guest", party_id=guest).set_roles(guest=guest, host=host, arbiter=arbiter)
)
reader_0 = Reader(name="reader_0")
reader_0.get_party_instance(role="guest", party_id=guest).component_param(
    table={"name": "breast_hetero_guest", "namespace": "experiment"}
)
reader_0.get_party_instance(role="host", party_id=host).component_param(
    table={"name": "breast_hetero_host", "namespace": "experiment"}
)
dt = DataTransform(name="data_transform_0")
dt.get_party_instance(role="guest", party_id=guest).component_param(with_label=True, output_format="dense")
dt.get_party_instance(role="host", party_id=host).component_param(with_label=False)
inter = Intersection(name="intersection_0")
lr = HeteroLR(
    name="hetero_lr_0",
    penalty="L2",
    optimizer="rmsprop",
    max_iter=10,
    learning_rate=0.05,
    batch_size=-1,
    init_param={"init_method": "zeros"},
    encrypt_param={"method": "Paillier", "key_length": 1024},
)
ev = Evaluation(name="evaluation_0", eval_type="binary")
pipe.add_component(reader_0)
pipe.add_component(dt, data=Data(data=reader_0.output.data))
pipe.add_component(inter, data=Data(data=dt.output.data))
pipe.add_component(lr, data=Data(train_data=inter.output.data))
pipe.add_component(ev, data=Data(data=lr.output.data))
pipe.compile()
pipe.fit()
print("SUMMARY", pipe.get_component("hetero_lr_0").get_summary())
print("MODEL", list(pipe.get_component("hetero_lr_0").get_model_param())[:5])
out = pipe.get_component("hetero_lr_0").get_output_data()
print("OUT", type(out), getattr(out, "shape", None))
print(out.head(3) if hasattr(out, "head") else out)
pipe.deploy_component([pipe.data_transform_0, pipe.intersection_0, pipe.hetero_lr_0])
predict = PipeLine()
reader_1 = Reader(name="reader_0")
reader_1.get_party_instance(role="guest", party_id=guest).component_param(
    table={"name": "breast_hetero_guest", "namespace": "experiment"}
)
reader_1.get_party_instance(role="host", party_id=host).component_param(
    table={"name": "breast_hetero_host", "namespace": "experiment"}
)
predict.add_component(reader_1)
predict.add_component(pipe, data=Data(predict_input={pipe.data_transform_0.input.data: reader_1.output.data}))
predict.predict()
pout = predict.get_component("hetero_lr_0").get_output_data()
print("PREDICT", getattr(pout, "shape", None))
print("OK")
