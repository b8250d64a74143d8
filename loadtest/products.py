# ruff: noqa: E501 - the vocabulary tables: Hangul counts double width
"""A seeded generator of realistic shop products, and of the searches buyers make on them.

    from loadtest.products import generate, queries
    for product in generate(1000, seed=7): ...
    for kind, body in queries(seed=7): ...   # endless: (kind, POST /catalog/search body)

Names are Korean (about 55%), English (35%) or mixed (an English brand with Korean words, 10%):
brand, sometimes a product line, a model code, a modifier, a descriptor, the product type, a spec
and a colour, e.g. "삼성 갤럭시 버즈 프로 무선 이어폰 블랙" or "Logitech MX G502 Wireless Mouse".
Every choice (category, brand, word, spec, seller) is drawn with Zipf-like weights (weight of the
k-th most popular = 1 / k^ZIPF_S), so a few words are in many products and most in few, as in a
real catalogue. Categories come from the catalog's fixed list, prices are KRW, log-normal around
a per-category median and end in 00 or 900; descriptions are one or two short sentences in the
name's language.

Deterministic: product ``i`` of ``seed`` is the same however the range is cut (each block of
BLOCK products has its own random stream), so loaders can generate ranges in parallel. Ids are
deterministic too and live in a range of their own per seed (``id_range``; sellers likewise), so
that a benchmark can delete exactly what it added. Pure Python, no Django: about 100k products/s
on one core (``python loadtest/products.py --count 200000`` measures it).
"""
from __future__ import annotations

import math
import random
import sys
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, or from locust

from commerce.catalog.rules import CATEGORIES  # noqa: E402

ZIPF_S = 1.0
BLOCK = 1000
SELLERS = 20_000
# version-4-looking ids: a fixed first group, the seed in the second, the index in the last:
# product i of seed s is 5ea4c400-{s:04x}-4000-8000-{i:012x}; its seller 5ea4c401-{s:04x}-4000-8000-...
ID_BASE = 0x5EA4C400_0000_4000_8000_000000000000
SELLER_BASE = 0x5EA4C401_0000_4000_8000_000000000000
ID_SPAN = 1 << 48


def product_uuid(i: int, seed: int = 1) -> UUID:
    return UUID(int=ID_BASE | (seed & 0xFFFF) << 80 | i)


def seller_uuid(i: int, seed: int = 1) -> UUID:
    return UUID(int=SELLER_BASE | (seed & 0xFFFF) << 80 | i)


def id_range(seed: int = 1) -> tuple[UUID, UUID]:
    """[low, high) of the product ids of ``seed`` (UUIDs compare like their bytes in PostgreSQL)."""
    low = ID_BASE | (seed & 0xFFFF) << 80
    return UUID(int=low), UUID(int=low + ID_SPAN)


class Zipf:
    """Pick from ``items`` (most popular first) with weight 1 / rank^s."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items, s: float = ZIPF_S, weights=None):
        self.items = list(items)
        weights = weights or [1 / (rank ** s) for rank in range(1, len(self.items) + 1)]
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rnd):
        return self.items[bisect(self.cum, rnd() * self.total)]


def _subject_particle(word: str) -> str:
    """이 after a final consonant, 가 after a vowel (or a non-Hangul ending)."""
    last = word[-1]
    return "이" if "\uac00" <= last <= "\ud7a3" and (ord(last) - 0xAC00) % 28 else "가"


# (Korean, English) pairs. Order is popularity: the first is picked most often.
COLORS = [("블랙", "Black"), ("화이트", "White"), ("네이비", "Navy"), ("그레이", "Gray"), ("베이지", "Beige"),
          ("블루", "Blue"), ("핑크", "Pink"), ("레드", "Red"), ("그린", "Green"), ("실버", "Silver"),
          ("브라운", "Brown"), ("아이보리", "Ivory"), ("카키", "Khaki"), ("퍼플", "Purple"), ("옐로우", "Yellow")]
MODIFIERS = [("프로", "Pro"), ("플러스", "Plus"), ("미니", "Mini"), ("울트라", "Ultra"), ("라이트", "Lite"),
             ("맥스", "Max"), ("에어", "Air"), ("스마트", "Smart"), ("프리미엄", "Premium"), ("클래식", "Classic"),
             ("에디션", "Edition"), ("슬림", "Slim"), ("2세대", "2nd Gen"), ("스페셜", "Special")]

# category: (median price KRW, brands, descriptors, product types, specs)
_VOCAB: dict[str, tuple] = {
    "electronics": (89_000,
                    [("삼성", "Samsung"), ("LG", "LG"), ("소니", "Sony"), ("애플", "Apple"), ("보스", "Bose"),
                     ("JBL", "JBL"), ("샤오미", "Xiaomi"), ("앤커", "Anker"), ("젠하이저", "Sennheiser"),
                     ("캐논", "Canon"), ("필립스", "Philips"), ("브리츠", "Britz"), ("QCY", "QCY")],
                    [("무선", "Wireless"), ("블루투스", "Bluetooth"), ("노이즈캔슬링", "Noise Cancelling"),
                     ("휴대용", "Portable"), ("고속충전", "Fast Charging"), ("방수", "Waterproof"), ("4K", "4K")],
                    [("이어폰", "Earbuds"), ("헤드폰", "Headphones"), ("스피커", "Speaker"), ("보조배터리", "Power Bank"),
                     ("충전기", "Charger"), ("카메라", "Camera"), ("모니터", "Monitor"), ("TV", "TV"),
                     ("사운드바", "Soundbar"), ("스마트워치", "Smartwatch"), ("케이블", "Cable"), ("빔프로젝터", "Projector")],
                    ["10000mAh", "20000mAh", "65W", "USB-C", "32인치", "55인치", "65인치", "2.4GHz", "5.3"]),
    "computers": (450_000,
                  [("로지텍", "Logitech"), ("삼성", "Samsung"), ("LG", "LG"), ("애플", "Apple"), ("레노버", "Lenovo"),
                   ("에이수스", "ASUS"), ("델", "Dell"), ("HP", "HP"), ("앱코", "ABKO"), ("레이저", "Razer"),
                   ("커세어", "Corsair"), ("마이크로소프트", "Microsoft")],
                  [("무선", "Wireless"), ("게이밍", "Gaming"), ("기계식", "Mechanical"), ("저소음", "Silent"),
                   ("울트라북", "Ultrabook"), ("인체공학", "Ergonomic")],
                  [("노트북", "Laptop"), ("마우스", "Mouse"), ("키보드", "Keyboard"), ("모니터", "Monitor"),
                   ("SSD", "SSD"), ("데스크탑", "Desktop"), ("웹캠", "Webcam"), ("공유기", "Router"),
                   ("그래픽카드", "Graphics Card"), ("램", "RAM"), ("마우스패드", "Mouse Pad")],
                  ["16GB", "32GB", "512GB", "1TB", "2TB", "RTX4060", "i7", "M3", "27인치", "144Hz", "DDR5"]),
    "mobile": (320_000,
               [("삼성", "Samsung"), ("애플", "Apple"), ("샤오미", "Xiaomi"), ("구글", "Google"), ("슈피겐", "Spigen"),
                ("벨킨", "Belkin"), ("앤커", "Anker"), ("모토로라", "Motorola")],
               [("자급제", "Unlocked"), ("정품", "Genuine"), ("투명", "Clear"), ("맥세이프", "MagSafe"),
                ("강화유리", "Tempered Glass"), ("고속", "Fast")],
               [("스마트폰", "Smartphone"), ("케이스", "Case"), ("보호필름", "Screen Protector"),
                ("무선충전기", "Wireless Charger"), ("태블릿", "Tablet"), ("거치대", "Phone Stand"),
                ("충전케이블", "Charging Cable"), ("스마트밴드", "Smart Band")],
               ["128GB", "256GB", "512GB", "5G", "S24", "15W", "25W", "11인치"]),
    "appliances": (390_000,
                   [("삼성", "Samsung"), ("LG", "LG"), ("다이슨", "Dyson"), ("쿠쿠", "Cuckoo"), ("위닉스", "Winix"),
                    ("코웨이", "Coway"), ("필립스", "Philips"), ("쿠첸", "Cuchen"), ("신일", "Shinil"),
                    ("드롱기", "DeLonghi"), ("테팔", "Tefal")],
                   [("무선", "Cordless"), ("스마트", "Smart"), ("인버터", "Inverter"), ("저소음", "Quiet"),
                    ("대용량", "Large"), ("에너지효율1등급", "Energy Star")],
                   [("청소기", "Vacuum"), ("공기청정기", "Air Purifier"), ("제습기", "Dehumidifier"),
                    ("냉장고", "Refrigerator"), ("세탁기", "Washing Machine"), ("에어컨", "Air Conditioner"),
                    ("전기밥솥", "Rice Cooker"), ("선풍기", "Fan"), ("가습기", "Humidifier"), ("드라이기", "Hair Dryer"),
                    ("에어프라이어", "Air Fryer")],
                   ["10인용", "6인용", "20L", "5.5L", "16평", "1등급", "800W", "1600W"]),
    "fashion": (39_000,
                [("나이키", "Nike"), ("아디다스", "Adidas"), ("유니클로", "Uniqlo"), ("자라", "Zara"),
                 ("무신사스탠다드", "Musinsa Standard"), ("폴로", "Polo"), ("리바이스", "Levi's"), ("노스페이스", "The North Face"),
                 ("디스커버리", "Discovery"), ("탑텐", "Topten"), ("스파오", "Spao"), ("에잇세컨즈", "8Seconds"),
                 ("지오다노", "Giordano"), ("캘빈클라인", "Calvin Klein"), ("타미힐피거", "Tommy Hilfiger")],
                [("오버핏", "Oversized"), ("슬림핏", "Slim Fit"), ("기모", "Fleece-Lined"), ("린넨", "Linen"),
                 ("남성", "Men's"), ("여성", "Women's"), ("데일리", "Everyday"), ("캐주얼", "Casual"), ("면", "Cotton")],
                [("티셔츠", "T-Shirt"), ("후드티", "Hoodie"), ("맨투맨", "Sweatshirt"), ("청바지", "Jeans"),
                 ("원피스", "Dress"), ("셔츠", "Shirt"), ("패딩", "Puffer Jacket"), ("자켓", "Jacket"),
                 ("니트", "Sweater"), ("슬랙스", "Slacks"), ("반바지", "Shorts"), ("가디건", "Cardigan"),
                 ("코트", "Coat"), ("양말", "Socks"), ("모자", "Cap"), ("백팩", "Backpack")],
                ["S", "M", "L", "XL", "2XL", "FREE", "95", "100", "105"]),
    "shoes": (89_000,
              [("나이키", "Nike"), ("아디다스", "Adidas"), ("뉴발란스", "New Balance"), ("컨버스", "Converse"),
               ("반스", "Vans"), ("아식스", "ASICS"), ("휠라", "FILA"), ("크록스", "Crocs"), ("닥터마틴", "Dr. Martens"),
               ("푸마", "Puma"), ("호카", "HOKA")],
              [("경량", "Lightweight"), ("쿠셔닝", "Cushioned"), ("방수", "Waterproof"), ("남성", "Men's"),
               ("여성", "Women's"), ("키즈", "Kids")],
              [("운동화", "Sneakers"), ("러닝화", "Running Shoes"), ("슬리퍼", "Slippers"), ("샌들", "Sandals"),
               ("부츠", "Boots"), ("로퍼", "Loafers"), ("스니커즈", "Sneakers"), ("구두", "Dress Shoes")],
              ["230mm", "240mm", "250mm", "260mm", "270mm", "280mm", "290mm"]),
    "beauty": (25_000,
               [("설화수", "Sulwhasoo"), ("이니스프리", "Innisfree"), ("라네즈", "Laneige"), ("에스트라", "Aestura"),
                ("닥터지", "Dr.G"), ("라운드랩", "Round Lab"), ("토리든", "Torriden"), ("아누아", "Anua"),
                ("클리오", "Clio"), ("롬앤", "Rom&nd"), ("에뛰드", "Etude"), ("헤라", "Hera"), ("아이소이", "Isoi")],
               [("수분", "Hydrating"), ("진정", "Soothing"), ("미백", "Brightening"), ("저자극", "Gentle"),
                ("비건", "Vegan"), ("대용량", "Jumbo"), ("촉촉한", "Moist")],
               [("크림", "Cream"), ("토너", "Toner"), ("세럼", "Serum"), ("선크림", "Sunscreen"), ("클렌징폼", "Cleansing Foam"),
                ("마스크팩", "Sheet Mask"), ("립틴트", "Lip Tint"), ("쿠션", "Cushion Foundation"), ("샴푸", "Shampoo"),
                ("바디로션", "Body Lotion"), ("앰플", "Ampoule")],
               ["50ml", "100ml", "150ml", "200ml", "500ml", "SPF50+", "10매", "1+1"]),
    "health": (32_000,
               [("종근당", "Chong Kun Dang"), ("정관장", "CheongKwanJang"), ("뉴트리원", "Nutrione"), ("고려은단", "Korea Eundan"),
                ("센트룸", "Centrum"), ("나우푸드", "NOW Foods"), ("락토핏", "Lactofit"), ("오쏘몰", "Orthomol")],
               [("고함량", "High Potency"), ("식물성", "Plant-Based"), ("활력", "Energy"), ("면역", "Immune"),
                ("관절", "Joint"), ("눈건강", "Eye Health")],
               [("비타민C", "Vitamin C"), ("유산균", "Probiotics"), ("오메가3", "Omega-3"), ("홍삼", "Red Ginseng"),
                ("멀티비타민", "Multivitamin"), ("루테인", "Lutein"), ("마그네슘", "Magnesium"), ("콜라겐", "Collagen"),
                ("단백질쉐이크", "Protein Shake")],
               ["60정", "90정", "120정", "30포", "3개월분", "1000mg"]),
    "food": (19_900,
             [("CJ", "CJ"), ("오뚜기", "Ottogi"), ("농심", "Nongshim"), ("풀무원", "Pulmuone"), ("비비고", "Bibigo"),
              ("동원", "Dongwon"), ("청정원", "Chungjungone"), ("하림", "Harim"), ("곰곰", "Gomgom"), ("햇반", "Hetbahn"),
              ("제주삼다수", "Jeju Samdasoo"), ("매일", "Maeil"), ("서울우유", "Seoul Milk")],
             [("국내산", "Korean"), ("유기농", "Organic"), ("냉동", "Frozen"), ("무첨가", "Additive-Free"),
              ("저당", "Low Sugar"), ("간편", "Easy"), ("매운", "Spicy")],
             [("라면", "Ramen"), ("만두", "Dumplings"), ("김치", "Kimchi"), ("생수", "Water"), ("우유", "Milk"),
              ("닭가슴살", "Chicken Breast"), ("햇반", "Cooked Rice"), ("커피", "Coffee"), ("견과류", "Mixed Nuts"),
              ("참치캔", "Canned Tuna"), ("과자", "Snack"), ("사과", "Apples"), ("삼겹살", "Pork Belly"), ("쌀", "Rice")],
             ["500g", "1kg", "2kg", "10kg", "20개입", "30봉", "2L", "500ml", "24개"]),
    "home": (24_000,
             [("모던하우스", "Modern House"), ("이케아", "IKEA"), ("한샘", "Hanssem"), ("코멧", "Comet"),
              ("데코뷰", "Decoview"), ("락앤락", "Lock&Lock"), ("크리넥스", "Kleenex"), ("깨끗한나라", "Kkaekkeutan Nara")],
             [("항균", "Antibacterial"), ("대형", "Large"), ("접이식", "Foldable"), ("호텔", "Hotel"),
              ("무형광", "Non-Fluorescent"), ("극세사", "Microfiber")],
             [("수건", "Towel"), ("이불", "Comforter"), ("베개", "Pillow"), ("커튼", "Curtain"), ("러그", "Rug"),
              ("수납함", "Storage Box"), ("휴지", "Toilet Paper"), ("세제", "Detergent"), ("방향제", "Air Freshener"),
              ("빨래건조대", "Drying Rack"), ("조명", "Lamp")],
             ["퀸", "킹", "슈퍼싱글", "30롤", "40x80", "3L", "4개"]),
    "furniture": (189_000,
                  [("한샘", "Hanssem"), ("이케아", "IKEA"), ("시디즈", "Sidiz"), ("일룸", "iloom"), ("에이스침대", "Ace Bed"),
                   ("시몬스", "Simmons"), ("리바트", "Livart"), ("데스커", "Desker")],
                  [("원목", "Solid Wood"), ("높이조절", "Height Adjustable"), ("모듈", "Modular"), ("접이식", "Folding"),
                   ("1인용", "Single"), ("수납형", "Storage")],
                  [("책상", "Desk"), ("의자", "Chair"), ("침대", "Bed"), ("매트리스", "Mattress"), ("소파", "Sofa"),
                   ("책장", "Bookshelf"), ("식탁", "Dining Table"), ("옷장", "Wardrobe"), ("서랍장", "Dresser")],
                  ["1200", "1400", "1600", "퀸", "킹", "3인용", "4인용"]),
    "kitchen": (29_000,
                [("해피콜", "Happycall"), ("테팔", "Tefal"), ("락앤락", "Lock&Lock"), ("휘슬러", "Fissler"),
                 ("실리트", "Silit"), ("코렐", "Corelle"), ("글라스락", "Glasslock"), ("키친아트", "Kitchen-Art")],
                [("인덕션", "Induction"), ("스테인리스", "Stainless"), ("논스틱", "Nonstick"), ("내열", "Heat-Resistant"),
                 ("밀폐", "Airtight"), ("세트", "Set")],
                [("프라이팬", "Frying Pan"), ("냄비", "Pot"), ("밀폐용기", "Food Container"), ("칼", "Knife"),
                 ("도마", "Cutting Board"), ("텀블러", "Tumbler"), ("접시", "Plate"), ("머그컵", "Mug"), ("수저세트", "Cutlery")],
                ["24cm", "28cm", "20cm", "500ml", "1L", "5종", "10P"]),
    "sports": (45_000,
               [("나이키", "Nike"), ("아디다스", "Adidas"), ("언더아머", "Under Armour"), ("룰루레몬", "Lululemon"),
                ("데카트론", "Decathlon"), ("윌슨", "Wilson"), ("요넥스", "Yonex"), ("젝시믹스", "Xexymix")],
               [("홈트", "Home Workout"), ("미끄럼방지", "Non-Slip"), ("초경량", "Ultralight"), ("고탄력", "High-Stretch")],
               [("요가매트", "Yoga Mat"), ("덤벨", "Dumbbell"), ("레깅스", "Leggings"), ("축구공", "Soccer Ball"),
                ("배드민턴라켓", "Badminton Racket"), ("폼롤러", "Foam Roller"), ("줄넘기", "Jump Rope"), ("운동복", "Sportswear")],
               ["5kg", "10kg", "6mm", "10mm", "5호", "S", "M", "L"]),
    "outdoors": (79_000,
                 [("코베아", "Kovea"), ("콜맨", "Coleman"), ("스노우피크", "Snow Peak"), ("헬리녹스", "Helinox"),
                  ("노스페이스", "The North Face"), ("블랙야크", "Black Yak"), ("K2", "K2"), ("캠프타운", "Camptown")],
                 [("캠핑", "Camping"), ("경량", "Lightweight"), ("방수", "Waterproof"), ("원터치", "Instant")],
                 [("텐트", "Tent"), ("침낭", "Sleeping Bag"), ("캠핑의자", "Camping Chair"), ("랜턴", "Lantern"),
                  ("등산화", "Hiking Boots"), ("버너", "Stove"), ("아이스박스", "Cooler"), ("타프", "Tarp")],
                 ["2인용", "4인용", "6인용", "45L", "1000lm"]),
    "toys": (35_000,
             [("레고", "LEGO"), ("반다이", "Bandai"), ("영실업", "Young Toys"), ("손오공", "Sonokong"),
              ("피셔프라이스", "Fisher-Price"), ("마텔", "Mattel"), ("하즈브로", "Hasbro")],
             [("교육용", "Educational"), ("조립", "Building"), ("RC", "RC"), ("캐릭터", "Character")],
             [("블록", "Blocks"), ("피규어", "Figure"), ("인형", "Doll"), ("보드게임", "Board Game"), ("퍼즐", "Puzzle"),
              ("자동차", "Toy Car"), ("프라모델", "Model Kit")],
             ["1000피스", "500피스", "3세이상", "8세이상"]),
    "baby": (29_000,
             [("하기스", "Huggies"), ("팸퍼스", "Pampers"), ("마더케이", "Mother-K"), ("베베숲", "Bebesup"),
              ("압소바", "Absorba"), ("다이치", "Daiichi"), ("스토케", "Stokke")],
             [("신생아", "Newborn"), ("순면", "Pure Cotton"), ("무향", "Unscented"), ("휴대용", "Portable")],
             [("기저귀", "Diapers"), ("물티슈", "Baby Wipes"), ("젖병", "Baby Bottle"), ("유모차", "Stroller"),
              ("카시트", "Car Seat"), ("분유", "Formula"), ("아기띠", "Baby Carrier")],
             ["1단계", "2단계", "3단계", "4단계", "100매", "10팩"]),
    "books": (15_000,
              [("민음사", "Minumsa"), ("문학동네", "Munhakdongne"), ("창비", "Changbi"), ("길벗", "Gilbut"),
               ("한빛미디어", "Hanbit Media"), ("위즈덤하우스", "Wisdom House"), ("펭귄", "Penguin"), ("오라일리", "O'Reilly")],
              [("개정판", "Revised"), ("베스트셀러", "Bestseller"), ("초판", "First Edition"), ("양장", "Hardcover")],
              [("소설", "Novel"), ("에세이", "Essay"), ("자기계발", "Self-Help"), ("파이썬", "Python"),
               ("요리책", "Cookbook"), ("영어회화", "English Conversation"), ("만화", "Comics"), ("동화", "Fairy Tale")],
              ["1권", "2권", "전5권", "세트"]),
    "music": (25_000,
              [("야마하", "Yamaha"), ("펜더", "Fender"), ("깁슨", "Gibson"), ("콜트", "Cort"), ("롤랜드", "Roland"),
               ("카시오", "Casio"), ("하이브", "HYBE"), ("SM", "SM")],
              [("어쿠스틱", "Acoustic"), ("디지털", "Digital"), ("한정판", "Limited"), ("입문용", "Beginner")],
              [("기타", "Guitar"), ("피아노", "Piano"), ("앨범", "Album"), ("LP", "Vinyl"), ("우쿨렐레", "Ukulele"),
               ("마이크", "Microphone"), ("키보드", "Keyboard")],
              ["88건반", "61건반", "CD", "정규1집"]),
    "office": (9_900,
               [("모나미", "Monami"), ("3M", "3M"), ("파버카스텔", "Faber-Castell"), ("제브라", "Zebra"),
                ("까렌다쉬", "Caran d'Ache"), ("더블에이", "Double A"), ("양지사", "Yangjisa")],
               [("사무용", "Office"), ("대용량", "Bulk"), ("중성", "Gel"), ("무소음", "Silent")],
               [("볼펜", "Pen"), ("노트", "Notebook"), ("A4용지", "A4 Paper"), ("포스트잇", "Sticky Notes"),
                ("파일", "File Folder"), ("다이어리", "Planner"), ("스테이플러", "Stapler"), ("계산기", "Calculator")],
               ["0.5mm", "0.7mm", "A4", "A5", "500매", "12색"]),
    "pets": (25_000,
             [("로얄캐닌", "Royal Canin"), ("오리젠", "Orijen"), ("내추럴발란스", "Natural Balance"), ("ANF", "ANF"),
              ("아카나", "Acana"), ("펫모닝", "Petmorning"), ("이나바", "Inaba")],
             [("강아지", "Dog"), ("고양이", "Cat"), ("그레인프리", "Grain-Free"), ("소형견", "Small Breed")],
             [("사료", "Food"), ("간식", "Treats"), ("모래", "Litter"), ("배변패드", "Pee Pads"), ("장난감", "Toy"),
              ("하네스", "Harness"), ("방석", "Bed"), ("캣타워", "Cat Tree")],
             ["2kg", "6kg", "10kg", "100매", "5L"]),
    "automotive": (39_000,
                   [("불스원", "Bullsone"), ("카렉스", "Carex"), ("아이나비", "iNavi"), ("파인뷰", "Finevu"),
                    ("보쉬", "Bosch"), ("한국타이어", "Hankook"), ("모비스", "Mobis")],
                   [("차량용", "Car"), ("고속", "Fast"), ("2채널", "2-Channel"), ("무선", "Wireless")],
                   [("블랙박스", "Dashcam"), ("방향제", "Air Freshener"), ("와이퍼", "Wiper Blade"), ("엔진오일", "Engine Oil"),
                    ("충전기", "Car Charger"), ("핸드폰거치대", "Phone Mount"), ("세차용품", "Car Wash Kit")],
                   ["32GB", "600mm", "4L", "5W30", "QHD"]),
    "tools": (35_000,
              [("보쉬", "Bosch"), ("디월트", "DeWalt"), ("마끼다", "Makita"), ("계양", "Keyang"), ("스탠리", "Stanley"),
               ("블랙앤데커", "Black+Decker")],
              [("충전식", "Cordless"), ("전동", "Electric"), ("18V", "18V"), ("다용도", "Multi-Purpose")],
              [("드릴", "Drill"), ("공구세트", "Tool Set"), ("드라이버", "Screwdriver"), ("줄자", "Tape Measure"),
               ("사다리", "Ladder"), ("그라인더", "Grinder"), ("렌치", "Wrench")],
              ["10.8V", "18V", "20V", "5m", "32종"]),
    "garden": (19_000,
               [("다이소", "Daiso"), ("화분나라", "Hwabun Nara"), ("가드닝", "Gardening"), ("그린핑거", "Green Finger")],
               [("실내", "Indoor"), ("대형", "Large"), ("유기농", "Organic"), ("자동", "Automatic")],
               [("화분", "Planter"), ("씨앗", "Seeds"), ("분갈이흙", "Potting Soil"), ("물뿌리개", "Watering Can"),
                ("몬스테라", "Monstera"), ("영양제", "Plant Food"), ("호스", "Garden Hose")],
               ["10L", "20L", "30cm", "50m"]),
    "other": (15_000,
              [("노브랜드", "No Brand"), ("다이소", "Daiso"), ("무인양품", "Muji"), ("코스트코", "Costco")],
              [("선물용", "Gift"), ("한정", "Limited"), ("대용량", "Value Pack")],
              [("선물세트", "Gift Set"), ("상품권", "Gift Card"), ("포장지", "Wrapping Paper"), ("우산", "Umbrella"),
               ("마스크", "Mask"), ("건전지", "Batteries")],
              ["1개", "5개", "10개", "50매"]),
}
_CATEGORY_SHARE = {
    "fashion": 14, "food": 10, "beauty": 9, "electronics": 8, "home": 7, "mobile": 6, "computers": 5, "kitchen": 5,
    "appliances": 4, "shoes": 4, "health": 4, "sports": 4, "baby": 3, "furniture": 3, "toys": 3, "outdoors": 3,
    "books": 2, "pets": 2, "office": 2, "automotive": 1.5, "tools": 1.5, "garden": 1, "music": 1, "other": 1,
}
assert set(_VOCAB) == set(CATEGORIES) == set(_CATEGORY_SHARE), "vocabulary must cover the catalog's categories"

_FEATURES = [
    ("가벼운 무게", "light weight"), ("튼튼한 내구성", "durable build"), ("깔끔한 디자인", "clean design"),
    ("간편한 사용", "easy use"), ("뛰어난 가성비", "great value"), ("빠른 배송", "fast shipping"),
    ("넉넉한 용량", "generous capacity"), ("부드러운 촉감", "soft touch"), ("안전한 소재", "safe materials"),
    ("세련된 색상", "refined colours"), ("오래가는 성능", "long-lasting performance"), ("손쉬운 세척", "easy cleaning"),
]
_FEATURES = [(ko + _subject_particle(ko), en) for ko, en in _FEATURES]  # "무게가", "내구성이"
_KO_CLOSERS = ["매일 쓰기 좋습니다.", "선물용으로도 인기입니다.", "정품만 판매합니다.", "오늘 주문하면 내일 도착합니다.",
               "후기 만족도가 높은 상품입니다.", "교환과 반품이 쉽습니다.", "한정 수량 특가입니다."]
_EN_CLOSERS = ["Great for everyday use.", "A popular gift.", "Genuine product.", "Order today, get it tomorrow.",
               "Loved by reviewers.", "Free returns.", "Limited stock at this price."]

# Model codes: letters + digits, the same pool every run (seeded apart from the products).
_codes = random.Random(20240501)
MODEL_CODES = sorted({_codes.choice(["", "", "X", "G", "S", "A", "MX", "QC", "WH", "Z", "V", "K", "RT"])
                      + str(_codes.choice([2, 3, 5, 7, 10, 15, 24, 27, 34, 54, 100, 300, 502, 700, 1000]))
                      + _codes.choice(["", "", "", "S", "X", "i", "+", "M"]) for _ in range(400)},
                     key=lambda _: _codes.random())


@dataclass(frozen=True, slots=True)
class GeneratedProduct:
    index: int
    product_id: UUID
    seller_id: UUID
    seller_index: int
    name: str
    description: str
    price: Decimal
    currency: str
    category: str
    attributes: dict
    stock: int  # 0 = sold out (about 15%)
    age_s: int  # how long ago it was created, seconds (up to a year)


# where model codes ("G502", "S24") and modifiers ("Pro", "Mini") are usual, and where colours are
_MODEL_CATEGORIES = frozenset({"electronics", "computers", "mobile", "appliances", "automotive", "tools", "music",
                               "shoes", "outdoors"})
_COLOR_CATEGORIES = frozenset({"electronics", "computers", "mobile", "appliances", "fashion", "shoes", "home",
                               "furniture", "kitchen", "sports", "outdoors", "office", "automotive", "toys"})


class _Category:
    __slots__ = ("name", "mu", "brands", "descriptors", "types", "specs", "p_code", "p_modifier", "p_color")

    def __init__(self, name, median, brands, descriptors, types, specs):
        self.name, self.mu = name, math.log(median)
        self.brands, self.descriptors = Zipf(brands), Zipf(descriptors)
        self.types, self.specs = Zipf(types), Zipf(specs)
        tech = name in _MODEL_CATEGORIES
        self.p_code, self.p_modifier = (0.5, 0.35) if tech else (0.03, 0.08)
        self.p_color = 0.4 if name in _COLOR_CATEGORIES else 0.0


_CATS = [_Category(name, *_VOCAB[name]) for name in sorted(_CATEGORY_SHARE, key=lambda n: -_CATEGORY_SHARE[n])]
_CAT_PICK = Zipf(_CATS, weights=[_CATEGORY_SHARE[c.name] for c in _CATS])
_COLORS, _MODIFIERS, _CODES = Zipf(COLORS), Zipf(MODIFIERS), Zipf(MODEL_CODES)
_FEATURE_PICK, _KO_CLOSE, _EN_CLOSE = Zipf(_FEATURES), Zipf(_KO_CLOSERS), Zipf(_EN_CLOSERS)
_SELLER_PICK = Zipf(range(SELLERS), s=0.8)


def _product(i: int, rng: random.Random, id_base: int, seller_base: int) -> GeneratedProduct:
    rnd = rng.random
    cat = _CAT_PICK.pick(rnd)
    brand_ko, brand_en = cat.brands.pick(rnd)
    type_ko, type_en = cat.types.pick(rnd)
    lang = rnd()
    ko = lang < 0.55
    brand = brand_ko if ko else brand_en
    parts = [brand]
    if rnd() < cat.p_code:
        parts.append(_CODES.pick(rnd))
    if rnd() < cat.p_modifier:
        parts.append(_MODIFIERS.pick(rnd)[0 if ko or lang > 0.9 else 1])
    if rnd() < 0.55:
        parts.append(cat.descriptors.pick(rnd)[0 if ko or lang > 0.9 else 1])
    parts.append(type_ko if ko or lang > 0.9 else type_en)
    spec = cat.specs.pick(rnd) if rnd() < 0.5 else None
    if spec:
        parts.append(spec)
    color_ko, color_en = _COLORS.pick(rnd) if rnd() < cat.p_color else (None, None)
    if color_ko:
        parts.append(color_ko if ko or lang > 0.9 else color_en)
    name = " ".join(parts)
    feature_ko, feature_en = _FEATURE_PICK.pick(rnd)
    template = rnd()
    if ko or lang > 0.9:
        if template < 0.4:
            description = f"{brand_ko} {type_ko}, {feature_ko} 장점인 제품입니다."
        elif template < 0.7:
            description = f"{feature_ko} 돋보이는 {brand_ko}의 {type_ko}."
        else:
            description = f"{type_ko} 찾는 분께 추천하는 {brand_ko} 인기 상품."
        if rnd() < 0.6:
            description += " " + _KO_CLOSE.pick(rnd)
    else:
        if template < 0.4:
            description = f"{brand_en} {type_en.lower()} with {feature_en}."
        elif template < 0.7:
            description = f"A {type_en.lower()} by {brand_en}, known for its {feature_en}."
        else:
            description = f"{feature_en.capitalize()} makes this {brand_en} {type_en.lower()} a favourite."
        if rnd() < 0.6:
            description += " " + _EN_CLOSE.pick(rnd)
    # log-normal around the category's median; sigma 0.8 gives a long tail of expensive items
    won = math.exp(cat.mu + 0.8 * rng.gauss(0, 1))
    won = max(1000, int(won / 100) * 100)
    if won >= 10_000 and rnd() < 0.6:
        won = won // 1000 * 1000 + 900
    attributes = {"brand": brand_en}
    if color_en:
        attributes["color"] = color_en
    if spec:
        attributes["spec"] = spec
    seller = _SELLER_PICK.pick(rnd)
    stock = 0 if rnd() < 0.15 else 1 + int(rnd() * 300)
    return GeneratedProduct(i, UUID(int=id_base | i), UUID(int=seller_base | seller), seller, name, description,
                            Decimal(won), "KRW", cat.name, attributes, stock, int(rnd() * 365 * 86400))


def generate(count: int, *, seed: int = 1, start: int = 0) -> Iterator[GeneratedProduct]:
    """Products ``start`` .. ``start + count - 1`` of ``seed``."""
    end = start + count
    id_base, seller_base = ID_BASE | (seed & 0xFFFF) << 80, SELLER_BASE | (seed & 0xFFFF) << 80
    i = start
    while i < end:
        block = i // BLOCK
        rng = random.Random(seed * 1_000_003 + block)
        skip = i - block * BLOCK
        for _ in range(skip):  # re-align inside a block: the same stream as a run from the block start
            _product(0, rng, id_base, seller_base)
        for j in range(i, min(end, (block + 1) * BLOCK)):
            yield _product(j, rng, id_base, seller_base)
        i = (block + 1) * BLOCK


def product(i: int, *, seed: int = 1) -> GeneratedProduct:
    return next(generate(1, seed=seed, start=i))


# --- searches ---------------------------------------------------------------------------------

QUERY_KINDS = ("1-word", "2-word", "prefix", "korean", "filtered", "browse")
_QUERY_SHARE = Zipf(["1-word", "2-word", "korean", "filtered", "prefix", "browse"],
                    weights=[25, 20, 20, 15, 10, 10])
_PRICE_BANDS = [(None, 10_000), (10_000, 30_000), (30_000, 100_000), (100_000, 500_000), (500_000, None)]


def _word(rnd, cat: _Category, korean: bool) -> str:
    which = rnd()
    pair = cat.types.pick(rnd) if which < 0.5 else cat.brands.pick(rnd) if which < 0.85 else cat.descriptors.pick(rnd)
    return pair[0] if korean else pair[1].split()[0].lower()


def query(rng: random.Random) -> tuple[str, dict]:
    """One search as a buyer makes it: (kind, request body). Words follow the catalogue's popularity."""
    rnd = rng.random
    kind = _QUERY_SHARE.pick(rnd)
    cat = _CAT_PICK.pick(rnd)
    korean = rnd() < 0.6
    body: dict = {"limit": 20}
    if kind == "1-word":
        body["query"] = _word(rnd, cat, korean)
    elif kind == "2-word":
        brand_ko, brand_en = cat.brands.pick(rnd)
        type_ko, type_en = cat.types.pick(rnd)
        body["query"] = f"{brand_ko} {type_ko}" if korean else f"{brand_en} {type_en}".lower()
    elif kind == "prefix":
        word = _word(rnd, cat, korean)
        # what a buyer has typed so far: a Korean first syllable, or 2..5 letters
        body["query"] = word[:1] if korean else word[:max(2, min(len(word) - 1, 2 + int(rnd() * 4)))]
    elif kind == "korean":
        type_ko = cat.types.pick(rnd)[0]
        descriptor_ko = cat.descriptors.pick(rnd)[0]
        body["query"] = f"{descriptor_ko}{type_ko}" if rnd() < 0.5 else f"{descriptor_ko} {type_ko}"
    elif kind == "filtered":
        body["query"] = _word(rnd, cat, korean)
        filters: dict = {}
        roll = rnd()
        if roll < 0.4:
            filters["category"] = cat.name
        if 0.3 < roll < 0.8:
            low, high = _PRICE_BANDS[int(rnd() * len(_PRICE_BANDS))]
            if low is not None:
                filters["minPrice"] = str(low)
            if high is not None:
                filters["maxPrice"] = str(high)
        if roll > 0.6:
            filters["inStock"] = True
        body["filters"] = filters
        if rnd() < 0.3:
            body["sort"] = "priceAsc" if rnd() < 0.6 else "newest"
    else:  # browse a category, the facet page: no words
        body["query"] = ""
        body["filters"] = {"category": cat.name}
        if rnd() < 0.5:
            body["filters"]["inStock"] = True
        body["sort"] = ("priceAsc", "priceDesc", "newest")[int(rnd() * 3)]
    return kind, body


def queries(*, seed: int = 1) -> Iterator[tuple[str, dict]]:
    rng = random.Random(seed)
    while True:
        yield query(rng)


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Print sample products and measure the generator's speed.")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=12)
    args = parser.parse_args()
    for p in generate(args.show, seed=args.seed):
        print(f"{p.category:12} {p.price:>10,} KRW  stock {p.stock:3}  {p.name}  |  {p.description}")
    started = time.perf_counter()
    n = sum(1 for _ in generate(args.count, seed=args.seed))
    elapsed = time.perf_counter() - started
    print(f"{n:,} products in {elapsed:.2f} s: {n / elapsed:,.0f} products/s")
    sample = [q for q, _ in zip(queries(seed=args.seed), range(12), strict=False)]
    for kind, body in sample:
        print(f"{kind:9} {body}")
