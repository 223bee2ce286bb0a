"""Fixed choice lists of the customer registry (seeds 000, 002 and 004)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ORGANIZATION = "organization", _("Organisation")
    INDIVIDUAL = "individual", _("Individual")


class Status(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    NEW = "new", _("New customer")
    REPEAT = "repeat", _("Repeat customer")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class PotentialKind(models.TextChoices):
    GENERAL = "general", _("General potential customer")
    COMPETITOR = "competitor", _("Competitor's customer")


class RelationClass(models.TextChoices):
    BUSINESS = "business", _("Business customer")
    SUPPLIER = "supplier", _("Supplier")
    PARTNER = "partner", _("Partner institution")


class EnterpriseNature(models.TextChoices):
    STATE_OWNED = "state_owned", _("State-owned")
    CENTRAL_SOE = "central_soe", _("Central state-owned")
    FOREIGN = "foreign", _("Foreign-funded")
    PRIVATE = "private", _("Private")
    OTHER = "other", _("Other")


class ProductionMode(models.TextChoices):
    PRODUCTION = "production", _("Production")
    TRADING = "trading", _("Trading")
    OTHER = "other", _("Other")


class Scale(models.TextChoices):
    MICRO = "micro", _("Micro (under 10 staff)")
    SMALL = "small", _("Small (10–99)")
    MEDIUM = "medium", _("Medium (100–999)")
    LARGE = "large", _("Large (1,000+)")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Education(models.TextChoices):
    BELOW_HIGH_SCHOOL = "below_high_school", _("Below high school")
    HIGH_SCHOOL = "high_school", _("High school / vocational")
    COLLEGE = "college", _("College (大专)")
    BACHELOR = "bachelor", _("Bachelor")
    MASTER = "master", _("Master")
    DOCTORATE = "doctorate", _("Doctorate")


class Industry(models.TextChoices):
    """The industry list of the 潜客信息卡 (seed 000), plus the common B2B industries."""

    ELECTRIC_POWER = "electric_power", _("Electric power")
    PUBLIC_SECURITY_JUSTICE = "public_security_justice", _("Public security and justice")
    TOBACCO = "tobacco", _("Tobacco")
    HEALTHCARE = "healthcare", _("Healthcare")
    ROAD_TRANSPORT = "road_transport", _("Road transport")
    TELECOM = "telecom", _("Telecommunications")
    PETROCHEMICAL = "petrochemical", _("Petroleum and petrochemicals")
    LOGISTICS = "logistics", _("Logistics")
    GOVERNMENT = "government", _("Government agencies")
    RAILWAY = "railway", _("Railways")
    REAL_ESTATE = "real_estate", _("Real estate")
    TEXTILE_APPAREL = "textile_apparel", _("Textiles and apparel")
    CONSTRUCTION_ENGINEERING = "construction_engineering", _("Construction engineering")
    PUBLIC_INSTITUTION = "public_institution", _("Public institutions")
    VEHICLE_CONVERSION = "vehicle_conversion", _("Vehicle conversion")
    AVIATION = "aviation", _("Aviation")
    CHEMICAL_ENERGY = "chemical_energy", _("Chemicals and energy")
    HOTEL_CATERING = "hotel_catering", _("Hotels and catering")
    APPLIANCES_RETAIL = "appliances_retail", _("Appliances and department stores")
    FINANCE_SECURITY = "finance_security", _("Finance and security")
    BUILDING_INSTALLATION = "building_installation", _("Building and installation")
    MINING_METALLURGY = "mining_metallurgy", _("Mining and metallurgy")
    PASSENGER_TOURISM = "passenger_tourism", _("Passenger transport and tourism")
    AGRICULTURE = "agriculture", _("Agriculture, forestry, husbandry, fishery, water")
    CAR_RENTAL = "car_rental", _("Car rental")
    FOOD_BEVERAGE = "food_beverage", _("Food and beverages")
    COMMERCE_TRADE = "commerce_trade", _("Commerce and trade")
    MUNICIPAL = "municipal", _("Municipal administration")
    EDUCATION_SCIENCE = "education_science", _("Culture, education, science and technology")
    POSTAL = "postal", _("Postal services")
    PHARMACEUTICAL = "pharmaceutical", _("Pharmaceuticals")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    IT_SOFTWARE = "it_software", _("IT and software")
    ELECTRONICS = "electronics", _("Electronics")
    AUTOMOTIVE = "automotive", _("Automotive")
    INDIVIDUAL = "individual", _("Individual")
    OTHER = "other", _("Other")
