"""Synthetic identities: names, resident ID numbers, branches of a Henan-like province.

Names and ID numbers are functions of a customer number, so a counterparty that is a
postal customer carries that customer's name without a join.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from lib.seeded import uniform
from lib.synth.random import pick

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
            "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
            "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
            "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜",
            "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康",
            "毛", "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "龙", "万", "段", "雷", "钱", "汤")
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "辉", "鹏", "红", "建",
         "国", "志", "文", "海", "云", "峰", "林", "波", "宁", "斌", "飞", "凤", "春", "燕", "梅")
CITIES = ("郑州市", "开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市",
          "许昌市", "漯河市", "三门峡市", "南阳市", "商丘市", "信阳市", "周口市", "驻马店市", "济源市")
COUNTY_SUFFIXES = ("城区", "新区", "东县", "西县", "南县", "北县")
REGION_CODES = ("410102", "410202", "410305", "410402", "410502", "410602", "410702", "410802",
                "410902", "411002", "411102", "411202", "411302", "411402", "411502", "411602",
                "411702", "419001", "410425", "410522", "410823", "411325", "411522", "411623")
OCCUPATIONS = ("农民", "工人", "教师", "医生", "公务员", "个体经营", "企业职员", "退休", "学生", "自由职业")
OTHER_BANKS = ("ICBC", "CCB", "ABC", "BOC", "BOCOM", "CMB", "CIB", "ZZBANK", "HNRCU")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def person_name(seed: int, key: Column) -> Column:
    """Surname + one or two given-name characters."""
    given = F.concat(pick(GIVEN, uniform(seed, "given1", key)),
                     F.when(uniform(seed, "given2?", key) < 0.6, pick(GIVEN, uniform(seed, "given2", key)))
                     .otherwise(F.lit("")))
    return F.concat(pick(SURNAMES, uniform(seed, "surname", key)), given)


def id_body(seed: int, key: Column, birth: Column, gender: Column) -> Column:
    """The first 17 characters of a resident ID: region, birth date, sequence (odd = male)."""
    seq = F.floor(uniform(seed, "idseq", key) * 500).cast("int") * 2 + F.when(gender == "M", 1).otherwise(0)
    return F.concat(pick(REGION_CODES, uniform(seed, "region", key)), F.date_format(birth, "yyyyMMdd"),
                    F.lpad(seq.cast("string"), 3, "0"))


def with_check_digit(body: Column) -> Column:
    """The 18-character ID: body + ISO 7064 MOD 11-2 check character."""
    total = sum((F.substring(body, i + 1, 1).cast("int") * w for i, w in enumerate(_ID_WEIGHTS)),
                F.lit(0))
    return F.concat(body, F.substring(F.lit(_ID_CHECK), (F.pmod(total, F.lit(11)) + 1).cast("int"), 1))


def external_account(seed: int, salt: str, key: Column) -> Column:
    """A 19-digit card number at another bank."""
    digits = F.pmod(F.xxhash64(F.lit(seed), F.lit(salt), key), F.lit(10 ** 15))
    return F.concat(F.lit("6217"), F.lpad(digits.cast("string"), 15, "0"))


def cust_id(n: Column) -> Column:
    """Customer number n as the bank's 10-digit CUST_ID."""
    return F.concat(F.lit("41"), F.lpad(n.cast("string"), 8, "0"))
